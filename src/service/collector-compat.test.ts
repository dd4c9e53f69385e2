import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configErrorOf } from '../../test/support/config-error.ts';
import { tracesUrl } from '../export/config.ts';
import { loadConfig } from './load-config.ts';

const fixture = (name: string): string =>
  new URL(`../../test/fixtures/collector/${name}`, import.meta.url).pathname;

/** Loads YAML text as a config file, the way the CLI does. */
function loadText(text: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'edge-relay-compat-')), 'relay.yaml');
  writeFileSync(file, text);
  return loadConfig(file, {});
}

describe('Collector configs paste unchanged', () => {
  it("takes the otlphttp exporter's keys", () => {
    const config = loadConfig(fixture('otlphttp.yaml'), {});
    expect(tracesUrl(config.exporter)).toBe('https://otlp.example.net:4318/v1/traces');
    expect(config.exporter).toMatchObject({
      compression: 'zstd',
      encoding: 'json',
      timeout: 15_000,
      proxy_url: 'http://proxy.example.net:3128',
      tls: {
        ca_file: '/etc/ssl/example/ca.pem',
        cert_file: 'client.pem',
        key_file: 'client.key',
        insecure: true,
      },
      retry_on_failure: { initial_interval: 2000, max_elapsed_time: 300_000, multiplier: 1.7 },
    });
    // The exporter's batcher is the batch processor here.
    expect(config.batch).toEqual({ send_batch_size: 500, send_batch_max_size: 5000, timeout: 300 });
  });

  it("takes the tail_sampling processor's testdata forms, underscored numbers included", () => {
    const config = loadConfig(fixture('tail-sampling.yaml'), {});
    expect(config.tail_sampling?.num_traces).toBe(50_000);
    expect(config.tail_sampling?.policies.map((p) => p.type)).toContain('composite');
    expect(config.tail_sampling?.policies.find((p) => p.name === 'bytes')?.bytes_limiting).toEqual({
      bytes_per_second: 1_000_000,
      burst_capacity: 2_000_000,
    });
  });

  it('takes a file_storage extension named by the sending queue', () => {
    const config = loadConfig(fixture('file-storage.yaml'), {});
    expect(config.exporter.sending_queue.storage).toBe('/var/lib/edge-relay/queue');
    expect(config.exporter.sending_queue.queue_size).toBe(100_000);
  });

  it('appends /v1/traces to endpoint as the Collector does, and lets traces_endpoint win', () => {
    expect(tracesUrl({ endpoint: 'https://b.example/', traces_endpoint: '' })).toBe(
      'https://b.example/v1/traces',
    );
    expect(tracesUrl({ endpoint: 'https://b.example', traces_endpoint: 'https://t.example/x' })).toBe(
      'https://t.example/x',
    );
  });
});

describe('what does not paste is refused, naming the key', () => {
  it.each([
    [
      'exporter:\n  sending_queue:\n    storage: file_storage\n',
      'exporter.sending_queue.storage',
      'names no extension',
    ],
    [
      'exporter:\n  sending_queue:\n    storage: queue\n',
      'exporter.sending_queue.storage',
      'neither a defined extension',
    ],
    ['batch:\n  timeout: 200\n', 'batch.timeout', '200 has no unit'],
    ['exporter:\n  compression: snappy\n', 'exporter.compression', 'must be one of'],
    [
      'exporter:\n  traces_endpoint: not a url\n',
      'exporter.traces_endpoint',
      'must be an http:// or https:// URL',
    ],
    [
      'exporter:\n  tls:\n    cipher_suites: [TLS_AES_128_GCM_SHA256]\n',
      'exporter.tls.cipher_suites',
      'unknown key',
    ],
    [
      'batch:\n  timeout: 1s\nexporter:\n  batcher:\n    enabled: true\n',
      'exporter.batcher',
      'set batch or exporter.batcher, not both',
    ],
  ])('%j', (text, key, problem) => {
    const error = configErrorOf(() => loadText(text));
    expect(error.key).toBe(key);
    expect(error.message).toContain(problem);
  });

  it('keeps a quoted underscored number a string', () => {
    const error = configErrorOf(() => loadText('batch:\n  send_batch_size: "8_192"\n'));
    expect(error.key).toBe('batch.send_batch_size');
  });
});
