import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { resolveConfig } from '../../src/service/load-config.ts';
import {
  chartConfig,
  defaultValues,
  exampleFiles,
  mergeValues,
  podEnvironment,
  readYaml,
  valuesValidator,
} from './chart.ts';

const validate = valuesValidator();

const cases = [
  { name: 'values.yaml', values: defaultValues() },
  ...exampleFiles().map((file) => ({
    name: `examples/${basename(file)}`,
    values: mergeValues(defaultValues(), readYaml(file)),
  })),
];

describe('chart values against values.schema.json', () => {
  it.each(cases)('$name is valid', ({ values }) => {
    expect(validate(values), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  const refused = (overrides: Record<string, unknown>): string => {
    expect(validate(mergeValues(defaultValues(), overrides))).toBe(false);
    return JSON.stringify(validate.errors);
  };

  it('refuses a Lightstep token written into the config instead of a Secret', () => {
    const errors = refused({ config: { exporter: { headers: { 'lightstep-access-token': 'abc123' } } } });
    expect(errors).toContain('/config/exporter/headers/lightstep-access-token');
  });

  it('refuses a beacon token written into the config instead of beaconAuth', () => {
    const errors = refused({ config: { receiver: { auth: { tokens: ['0123456789abcdef0123'] } } } });
    expect(errors).toContain('/config/receiver/auth/tokens/0');
  });

  it('refuses a listen address the pod network cannot reach', () => {
    expect(refused({ config: { admin: { endpoint: '127.0.0.1:8888' } } })).toContain(
      '/config/admin/endpoint',
    );
  });

  it('refuses a misspelt value instead of ignoring it', () => {
    expect(refused({ persistance: { enabled: true } })).toContain('persistance');
  });

  it('refuses misspelt names of the official collector chart, naming them', () => {
    const misspelt: [Record<string, unknown>, string][] = [
      [{ extraEnvFrom: [{ secretRef: { name: 'x' } }] }, 'extraEnvFrom'],
      [{ extraVolume: [{ name: 'x' }] }, 'extraVolume'],
      [{ image: { digests: '' } }, 'digests'],
      [{ serviceMonitor: { metricsRelabelings: [] } }, 'metricsRelabelings'],
      [{ podMonitor: { extraLabel: { release: 'x' } } }, 'extraLabel'],
      [{ prometheusRule: { defaultRules: { additionalLabels: {} } } }, 'additionalLabels'],
      [{ configMap: { existingname: 'x' } }, 'existingname'],
      [{ command: { extraArg: [] } }, 'extraArg'],
    ];
    for (const [overrides, name] of misspelt)
      expect(refused(overrides)).toContain(`"additionalProperty":"${name}"`);
  });

  it('refuses the official chart values this chart has no counterpart for, rather than ignoring them', () => {
    for (const name of ['mode', 'presets', 'ports', 'alternateConfig'])
      expect(refused({ [name]: {} })).toContain(`"additionalProperty":"${name}"`);
    expect(refused({ serviceMonitor: { metricsEndpoints: [{ port: 'metrics' }] } })).toContain(
      '"additionalProperty":"metricsEndpoints"',
    );
  });

  it('accepts the former names beside the new ones', () => {
    const values = mergeValues(defaultValues(), {
      extraEnv: [{ name: 'A', value: 'a' }],
      serviceMonitor: { labels: { release: 'prometheus' } },
    });
    expect(validate(values), JSON.stringify(validate.errors)).toBe(true);
  });

  it('refuses an existing beacon token Secret without the keys to read', () => {
    expect(refused({ beaconAuth: { existingSecret: 'tokens' } })).toContain('/beaconAuth/existingSecretKeys');
  });

  it('refuses beacon tokens shorter than the relay accepts', () => {
    expect(refused({ beaconAuth: { tokens: ['short'] } })).toContain('/beaconAuth/tokens/0');
  });
});

describe("the relay's own validation of each config: block, as the chart renders it", () => {
  it.each(cases)('$name', ({ values }) => {
    expect(() => resolveConfig(chartConfig(values), podEnvironment(values))).not.toThrow();
  });

  it('names the bad key when the config block is wrong', () => {
    const values = mergeValues(defaultValues(), { config: { batch: { send_batch_sise: 10 } } });
    expect(() => resolveConfig(chartConfig(values), podEnvironment(values))).toThrow(
      'batch.send_batch_sise: unknown key',
    );
  });

  it('keeps secrets out of the ConfigMap: tokens reach the relay only through the environment', () => {
    const values = mergeValues(defaultValues(), {
      lightstep: { accessToken: 'lightstep-secret-value' },
      beaconAuth: { tokens: ['beacon-secret-value-0001'] },
    });
    const rendered = stringify(chartConfig(values));
    expect(rendered).not.toContain('secret-value');
    expect(rendered).toContain(`\${env:EDGE_RELAY_BEACON_TOKEN_0}`);
    const config = resolveConfig(chartConfig(values), {
      ...podEnvironment(values),
      LIGHTSTEP_ACCESS_TOKEN: 'lightstep-secret-value',
      EDGE_RELAY_BEACON_TOKEN_0: 'beacon-secret-value-0001',
    });
    expect(config.exporter.headers['lightstep-access-token']).toBe('lightstep-secret-value');
    expect(config.receiver.auth.tokens).toEqual([{ id: 'token-0', value: 'beacon-secret-value-0001' }]);
  });

  it('sizes the worker threads by the container CPU limit', () => {
    const values = defaultValues();
    const config = resolveConfig(chartConfig(values), {
      ...podEnvironment(values),
      EDGE_RELAY_CPU_LIMIT: '3',
    });
    expect(config.workers.threads).toBe(3);
  });
});
