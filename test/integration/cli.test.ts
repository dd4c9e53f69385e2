import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

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

  it('exits non-zero on an unknown command', async () => {
    expect((await cli('frobnicate')).code).toBe(2);
  });
});
