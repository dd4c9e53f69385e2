import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/errors.ts';
import { loadConfig, resolveConfig } from './load-config.ts';

const errorOf = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('resolveConfig', () => {
  it('fills every default, with durations in milliseconds', () => {
    const config = resolveConfig({});
    expect(config.receiver.endpoint).toBe('0.0.0.0:4318');
    expect(config.admin.endpoint).toBe('0.0.0.0:8888');
    expect(config.batch).toEqual({ send_batch_size: 8192, send_batch_max_size: 0, timeout: 200 });
    expect(config.exporter.retry_on_failure).toEqual({
      enabled: true,
      initial_interval: 5000,
      randomization_factor: 0.5,
      multiplier: 1.5,
      max_interval: 30000,
      max_elapsed_time: 300000,
    });
    expect(config.exporter.sending_queue).toEqual({
      enabled: true,
      num_consumers: 10,
      queue_size: 1000,
      storage: '',
      storage_max_bytes: 1073741824,
    });
    expect(config.memory_limiter).toEqual({
      check_interval: 1000,
      min_gc_interval_when_soft_limited: 10000,
      min_gc_interval_when_hard_limited: 0,
      limit_mib: 0,
      spike_limit_mib: 0,
      limit_percentage: 80,
      spike_limit_percentage: 20,
    });
    expect(config.shutdown_timeout).toBe(30000);
  });

  it('parses Go-style durations', () => {
    const config = resolveConfig({ batch: { timeout: '1m30s' }, exporter: { timeout: '250ms' } });
    expect(config.batch.timeout).toBe(90000);
    expect(config.exporter.timeout).toBe(250);
  });

  it.each([
    [{ recever: {} }, 'recever', 'unknown key'],
    [
      { exporter: { retry_on_failure: { max_intervall: '1s' } } },
      'exporter.retry_on_failure.max_intervall',
      'unknown key',
    ],
    [{ batch: { timeout: '5 parsecs' } }, 'batch.timeout', 'is not a duration'],
    [{ receiver: { endpoint: 'localhost' } }, 'receiver.endpoint', 'must match pattern'],
    [{ exporter: { compression: 'zstd' } }, 'exporter.compression', 'must be one of "gzip", "none"'],
    [
      { enrichment: { pops: [{ cidr: '10.0.0.0/33', pop: 'X' }] } },
      'enrichment.pops[0].cidr',
      'must be a CIDR',
    ],
    [{ receiver: { auth: { tokens: ['short'] } } }, 'receiver.auth.tokens[0]', 'must NOT have fewer than 16'],
    [{ batch: { send_batch_size: 0 } }, 'batch.send_batch_size', 'must be >= 1'],
  ])('names the key of a bad value: %j', (tree, key, problem) => {
    const error = errorOf(() => resolveConfig(tree));
    expect(error.key).toBe(key);
    expect(error.message).toContain(problem);
  });

  it('substitutes ${env:NAME}, with defaults and typed whole values', () => {
    const config = resolveConfig(
      {
        exporter: {
          headers: { 'lightstep-access-token': '${env:TOKEN}', 'x-other': 'a-${env:MISSING:-b}-$$' },
        },
        batch: { send_batch_size: '${env:SIZE}' },
      },
      { TOKEN: 'secret', SIZE: '100' },
    );
    expect(config.exporter.headers).toEqual({ 'lightstep-access-token': 'secret', 'x-other': 'a-b-$' });
    expect(config.batch.send_batch_size).toBe(100);
  });

  it('refuses an unset variable without a default, naming the key', () => {
    const error = errorOf(() => resolveConfig({ exporter: { headers: { token: '${env:NOPE}' } } }, {}));
    expect(error.key).toBe('exporter.headers.token');
    expect(error.message).toContain('NOPE is not set');
  });
});

describe('loadConfig', () => {
  const write = (text: string): string => {
    const file = join(mkdtempSync(join(tmpdir(), 'edge-relay-config-')), 'relay.yaml');
    writeFileSync(file, text);
    return file;
  };

  it('loads the bundled default config', () => {
    const config = loadConfig(new URL('../../config/relay.yaml', import.meta.url).pathname, {});
    expect(config.exporter.headers['lightstep-access-token']).toBe('');
    expect(config.exporter.traces_endpoint).toBe('https://ingest.lightstep.com/traces/otlp/v0.9');
  });

  it('reports YAML syntax errors and duplicate keys', () => {
    expect(errorOf(() => loadConfig(write('receiver: [\n'))).message).toContain('is not valid YAML');
    expect(errorOf(() => loadConfig(write('admin: {}\nadmin: {}\n'))).message).toContain('is not valid YAML');
  });

  it('reports a missing file', () => {
    expect(errorOf(() => loadConfig('/nonexistent/relay.yaml')).message).toContain('cannot read');
  });
});
