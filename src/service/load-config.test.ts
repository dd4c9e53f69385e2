import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configErrorOf } from '../../test/support/config-error.ts';
import { FilesRead } from './files-read.ts';
import { loadConfig, resolveConfig } from './load-config.ts';

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
    expect(config.receiver.durability).toBe('none');
    expect(config.receiver.wal).toEqual({
      directory: '',
      commit_interval: 2,
      segment_max_bytes: 16777216,
      segment_max_age: 1000,
      max_bytes: 1073741824,
    });
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
    [{ receiver: { endpoint: 'localhost' } }, 'receiver.endpoint', 'must be host:port'],
    [
      { exporter: { compression: 'snappy' } },
      'exporter.compression',
      'must be one of "gzip", "zstd", "deflate", "none", ""',
    ],
    [{ receiver: { endpoint: '0.0.0.0:65536' } }, 'receiver.endpoint', 'a port from 0 to 65535'],
    [{ admin: { endpoint: '[::1]:99999' } }, 'admin.endpoint', 'a port from 0 to 65535'],
    [
      { enrichment: { pops: [{ cidr: '10.0.0.0/33', pop: 'X' }] } },
      'enrichment.pops[0].cidr',
      'must be a CIDR',
    ],
    [
      { receiver: { auth: { tokens: ['short'] } } },
      'receiver.auth.tokens[0].value',
      'must NOT have fewer than 16',
    ],
    [
      { receiver: { auth: { tokens: [{ value: '0123456789abcdef', not_after: '2027-01-01' }] } } },
      'receiver.auth.tokens[0].not_after',
      'must be an RFC 3339 time with a zone',
    ],
    [
      {
        receiver: {
          auth: {
            tokens: [
              { id: 'a', value: '0123456789abcdef' },
              { id: 'a', value: 'fedcba9876543210' },
            ],
          },
        },
      },
      'receiver.auth.tokens[1].id',
      `"a" is also tokens[0]'s id`,
    ],
    [
      { receiver: { auth: { tokens: ['0123456789abcdef', { value: '0123456789abcdef' }] } } },
      'receiver.auth.tokens[1].value',
      'the same token as tokens[0]',
    ],
    [
      {
        receiver: {
          auth: {
            tokens: [
              {
                value: '0123456789abcdef',
                not_before: '2027-01-02T00:00:00Z',
                not_after: '2027-01-01T00:00:00Z',
              },
            ],
          },
        },
      },
      'receiver.auth.tokens[0].not_after',
      'must be later than not_before',
    ],
    [
      { receiver: { auth: { beacon_keys: [{ id: 'k', secret: 'too-short-for-hmac' }] } } },
      'receiver.auth.beacon_keys[0].secret',
      'must match pattern',
    ],
    [
      {
        receiver: {
          auth: {
            tokens: [{ id: 'edge', value: '0123456789abcdef' }],
            beacon_keys: [{ id: 'edge', secret: 'k'.repeat(32) }],
          },
        },
      },
      'receiver.auth.beacon_keys[0].id',
      `"edge" is also tokens[0]'s id`,
    ],
    [
      { receiver: { auth: { oidc: { issuer_url: 'https://idp.example.com' } } } },
      'receiver.auth.oidc.audience',
      'unless ignore_audience is true',
    ],
    [
      { receiver: { auth: { oidc: { audience: 'edge-relay' } } } },
      'receiver.auth.oidc.issuer_url',
      'required when any other oidc key is set',
    ],
    [
      { receiver: { auth: { oidc: { issuer_url: 'idp.example.com', audience: 'a' } } } },
      'receiver.auth.oidc.issuer_url',
      'must be',
    ],
    [
      {
        receiver: { auth: { beacon_keys: [{ id: 'k', secret: 'k'.repeat(32) }] } },
        cluster: { self: 'http://10.0.0.1:4318', peers: ['http://10.0.0.1:4318', 'http://10.0.0.2:4318'] },
      },
      'receiver.auth.tokens',
      'present a token to each other',
    ],
    [{ batch: { send_batch_size: 0 } }, 'batch.send_batch_size', 'must be >= 1'],
    [{ receiver: { durability: 'fsync' } }, 'receiver.durability', 'must be one of "none", "wal"'],
    [
      { receiver: { durability: 'wal' } },
      'receiver.wal.directory',
      'is required with receiver.durability: wal',
    ],
    [{ receiver: { wal: { dir: '/tmp/wal' } } }, 'receiver.wal.dir', 'unknown key'],
    [
      {
        receiver: {
          durability: 'wal',
          wal: { directory: '/w', max_bytes: 1048576, segment_max_bytes: 1048576 },
        },
      },
      'receiver.wal.max_bytes',
      'at least twice receiver.wal.segment_max_bytes',
    ],
    [
      { exporter: { traces_endpoint: 'not a url' } },
      'exporter.traces_endpoint',
      'must be an http:// or https:// URL',
    ],
    [
      { exporter: { traces_endpoint: 'ftp://x/y' } },
      'exporter.traces_endpoint',
      'must be an http:// or https:// URL',
    ],
    [
      { receiver: { threads: 2, durability: 'wal', wal: { directory: '/w' } } },
      'receiver.threads',
      'must be 0 or 1 with receiver.durability: wal',
    ],
  ])('names the key of a bad value: %j', (tree, key, problem) => {
    const error = configErrorOf(() => resolveConfig(tree));
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

  it('reads ${file:/path} references (trailing line breaks dropped), names the files, keeps digits a string', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-relay-secrets-'));
    writeFileSync(join(dir, 'token'), 'lightstep-from-a-file\n');
    writeFileSync(join(dir, 'beacon'), '00123456789012345678901234');
    const files = new FilesRead();
    const config = resolveConfig(
      {
        exporter: { headers: { 'lightstep-access-token': `\${file:${dir}/token}` } },
        receiver: { auth: { tokens: [`\${file:${dir}/beacon}`] } },
      },
      {},
      files,
    );
    expect(config.exporter.headers['lightstep-access-token']).toBe('lightstep-from-a-file');
    expect(config.receiver.auth.tokens).toEqual([{ id: 'token-0', value: '00123456789012345678901234' }]);
    expect(files.paths.sort()).toEqual([join(dir, 'beacon'), join(dir, 'token')]);
  });

  it('never parses what a reference holds, so no parser error can quote a secret', () => {
    const config = resolveConfig(
      { exporter: { headers: { token: '${env:TOKEN}' } }, batch: { send_batch_size: '${env:SIZE}' } },
      { TOKEN: '[not: yaml: at all', SIZE: '64' },
    );
    expect(config.exporter.headers.token).toBe('[not: yaml: at all');
    expect(config.batch.send_batch_size).toBe(64);
  });

  it('refuses an unreadable ${file:…}, naming the key and the file but nothing of any content', () => {
    const error = configErrorOf(() =>
      resolveConfig({ exporter: { headers: { token: '${file:/nonexistent/x}' } } }, {}),
    );
    expect(error.key).toBe('exporter.headers.token');
    expect(error.message).toContain('cannot read ${file:/nonexistent/x}: ENOENT');
  });

  it('refuses an unset variable without a default, naming the key', () => {
    const error = configErrorOf(() => resolveConfig({ exporter: { headers: { token: '${env:NOPE}' } } }, {}));
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
    expect(configErrorOf(() => loadConfig(write('receiver: [\n'))).message).toContain('is not valid YAML');
    expect(configErrorOf(() => loadConfig(write('admin: {}\nadmin: {}\n'))).message).toContain(
      'is not valid YAML',
    );
  });

  it('reports a missing file', () => {
    expect(configErrorOf(() => loadConfig('/nonexistent/relay.yaml')).message).toContain('cannot read');
  });
});
