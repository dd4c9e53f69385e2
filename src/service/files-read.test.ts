import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilesRead } from './files-read.ts';
import { loadConfig } from './load-config.ts';

describe('FilesRead', () => {
  it('fingerprints what a config was read from, so a change made after the read still counts as one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-relay-files-read-'));
    const token = join(dir, 'token');
    const configFile = join(dir, 'relay.yaml');
    writeFileSync(token, 'token-1');
    writeFileSync(configFile, `exporter:\n  headers:\n    lightstep-access-token: \${file:${token}}\n`);
    const read = new FilesRead();
    loadConfig(configFile, {}, read);
    expect(read.fingerprint()).toBe(FilesRead.onDisk([token, configFile]).fingerprint());
    // The Secret changes after the config was read, before anyone looks at its files again: what the
    // running config was built from no longer matches the disk.
    writeFileSync(token, 'token-2');
    expect(read.fingerprint()).not.toBe(FilesRead.onDisk(read.paths).fingerprint());
  });

  it('tells a missing file from an empty one, and both from one with content', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-relay-files-read-'));
    const path = join(dir, 'secret');
    const missing = FilesRead.onDisk([path]).fingerprint();
    writeFileSync(path, '');
    const empty = FilesRead.onDisk([path]).fingerprint();
    writeFileSync(path, 'a-secret-value');
    const full = FilesRead.onDisk([path]);
    expect(new Set([missing, empty, full.fingerprint()]).size).toBe(3);
  });
});
