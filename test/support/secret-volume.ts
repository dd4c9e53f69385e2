import { existsSync, mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A directory laid out as the kubelet lays out a Secret volume: each key is a symlink into `..data`,
 * which points at a timestamped directory; an update writes a new directory and swaps `..data` with one
 * rename, so a reader sees the old set of files or the new one, never half of each.
 */
export class SecretVolume {
  readonly dir = mkdtempSync(join(tmpdir(), 'edge-relay-secret-'));
  #version = 0;

  constructor(files: Record<string, string>) {
    this.publish(files);
  }

  path(key: string): string {
    return join(this.dir, key);
  }

  publish(files: Record<string, string>): void {
    const version = `..${++this.#version}`;
    mkdirSync(join(this.dir, version));
    for (const [key, value] of Object.entries(files)) writeFileSync(join(this.dir, version, key), value);
    symlinkSync(version, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    for (const key of Object.keys(files)) {
      if (!existsSync(this.path(key))) symlinkSync(join('..data', key), this.path(key));
    }
  }
}
