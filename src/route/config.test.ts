import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError } from '../lib/errors.ts';
import { resolveConfig } from '../service/load-config.ts';

const keyOf = (tree: unknown): string => {
  try {
    resolveConfig(tree, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.key;
    throw err;
  }
  return '';
};

const peers = ['http://10.0.0.5:4318', 'http://10.0.0.6:4318'];

describe('cluster config', () => {
  it('is off by default, with the Collector dns resolver defaults', () => {
    const { cluster } = resolveConfig({}, {});
    expect(cluster.peers).toEqual([]);
    expect(cluster.dns).toEqual({ hostname: '', port: 4318, interval: 5000, timeout: 1000 });
    expect(cluster.forward.retry_on_failure).toEqual({
      enabled: true,
      initial_interval: 100,
      randomization_factor: 0.5,
      multiplier: 2,
      max_interval: 2000,
      max_elapsed_time: 30_000,
    });
  });

  it('needs cluster.self in a cluster, and a static self must be one of the peers', () => {
    expect(keyOf({ cluster: { peers } })).toBe('cluster.self');
    expect(keyOf({ cluster: { peers, self: 'http://10.0.0.7:4318' } })).toBe('cluster.self');
    expect(keyOf({ cluster: { dns: { hostname: 'relay-peers' } } })).toBe('cluster.self');
    expect(keyOf({ cluster: { peers, self: peers[0] } })).toBe('');
  });

  it('takes self from the environment, as in Kubernetes', () => {
    const config = resolveConfig(
      {
        cluster: {
          dns: { hostname: 'relay-peers.obs.svc.cluster.local' },
          self: 'http://${env:POD_IP}:4318',
        },
      },
      { POD_IP: '10.1.2.3' },
    );
    expect(config.cluster.self).toBe('http://10.1.2.3:4318');
  });

  it('takes `cluster.dns: <name>` as the headless Service name', () => {
    const { cluster } = resolveConfig({ cluster: { dns: 'relay-peers', self: 'http://10.1.2.3:4318' } }, {});
    expect(cluster.dns).toEqual({ hostname: 'relay-peers', port: 4318, interval: 5000, timeout: 1000 });
  });

  it('names bad and unknown keys', () => {
    expect(keyOf({ cluster: { peers: ['10.0.0.5:4318'], self: '10.0.0.5:4318' } })).toBe('cluster.self');
    expect(keyOf({ cluster: { peers: [peers[0], 'not a url'], self: peers[0] } })).toBe('cluster.peers[1]');
    expect(keyOf({ cluster: { resolver: {} } })).toBe('cluster.resolver');
    expect(keyOf({ cluster: { probe_interval: 'soon' } })).toBe('cluster.probe_interval');
  });

  it('accepts the example of docs/scale-out.md', () => {
    const doc = readFileSync(new URL('../../docs/scale-out.md', import.meta.url), 'utf8');
    const block = /```yaml\n([\s\S]*?)\n```/.exec(doc)?.[1] as string;
    const { cluster } = resolveConfig(parse(block), {});
    expect(cluster.peers).toHaveLength(3);
    expect(cluster.forward.timeout).toBe(200);
  });
});
