import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';

const configFile = (text: string): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'edge-relay-cli-')), 'relay.yaml');
  writeFileSync(file, text);
  return file;
};

describe('edge-relay validate', () => {
  it('accepts the bundled config', async () => {
    const result = await cli('validate', '--config', 'config/relay.yaml');
    expect(result).toMatchObject({ code: 0, stdout: 'config/relay.yaml: valid\n' });
  });

  it('exits non-zero naming the bad key', async () => {
    const result = await cli(
      'validate',
      '--config',
      configFile('exporter:\n  retry_on_failure:\n    max_interval: soon\n'),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('exporter.retry_on_failure.max_interval');
  });

  it('exits non-zero on an unknown key', async () => {
    const result = await cli('validate', '--config', configFile('reciever:\n  endpoint: 0.0.0.0:4318\n'));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('reciever: unknown key');
  });

  it('says what a traces_endpoint that is not a URL should be', async () => {
    const result = await cli('validate', '--config', configFile('exporter:\n  traces_endpoint: not a url\n'));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'invalid configuration: exporter.traces_endpoint: must be an http:// or https:// URL, such as https://ingest.lightstep.com/traces/otlp/v0.9 (or empty)\n',
    );
  });

  it('exits non-zero on an unknown command', async () => {
    expect((await cli('frobnicate')).code).toBe(2);
  });
});

describe('edge-relay when it cannot listen', () => {
  /** A port taken on 127.0.0.1 for the test's duration. */
  async function takenPort(): Promise<{ port: number; close: () => void }> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { port: (server.address() as AddressInfo).port, close: () => server.close() };
  }

  it.each(['receiver', 'admin'])('exits 1 naming the key when the %s port is taken', async (key) => {
    const taken = await takenPort();
    try {
      const other = key === 'receiver' ? 'admin' : 'receiver';
      const result = await cli(
        '--config',
        configFile(
          `${key}:\n  endpoint: 127.0.0.1:${taken.port}\n${other}:\n  endpoint: 127.0.0.1:0\nworkers:\n  threads: 1\n`,
        ),
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${key}.endpoint: cannot listen on 127.0.0.1:${taken.port}`);
      expect(result.stderr).toContain('EADDRINUSE');
    } finally {
      taken.close();
    }
  });

  it('validate refuses a port above 65535', async () => {
    const result = await cli('validate', '--config', configFile('receiver:\n  endpoint: 0.0.0.0:70000\n'));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('receiver.endpoint: must be host:port with a port from 0 to 65535');
  });
});

describe('edge-relay on a YAML error', () => {
  const TOKEN = 's3cr3t-backend-token-0042';
  // Each puts the error on the line that holds the token.
  it.each([
    `exporter:\n  headers:\n    lightstep-access-token: "${TOKEN}" extra\n`,
    `exporter:\n  headers:\n    lightstep-access-token: ${TOKEN}: x\n`,
  ])('names the line but never prints it, from validate and from a start: %j', async (text) => {
    const file = configFile(text);
    for (const args of [
      ['validate', '--config', file],
      ['--config', file],
    ]) {
      const result = await cli(...args);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/is not valid YAML: .* at line 3, column \d+\n$/);
      expect(result.stdout + result.stderr).not.toContain(TOKEN);
      expect(result.stdout + result.stderr).not.toContain(TOKEN.slice(0, 8));
    }
  });
});
