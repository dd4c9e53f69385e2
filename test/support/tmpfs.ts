import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A small filesystem of its own (tmpfs), so that a test can fill it; needs the right to mount. */
export class Tmpfs {
  readonly dir: string;
  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Mounts a tmpfs of `bytes`; undefined where this process may not mount (not root, no CAP_SYS_ADMIN). */
  static mount(bytes: number): Tmpfs | undefined {
    const dir = mkdtempSync(join(tmpdir(), 'edge-relay-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'ignore' });
      return new Tmpfs(dir);
    } catch {
      rmSync(dir, { recursive: true, force: true });
      return undefined;
    }
  }

  /** Whether tmpfs can be mounted here: tests that need it are skipped (and say so) where it cannot. */
  static available(): boolean {
    const probe = Tmpfs.mount(64 * 1024);
    probe?.unmount();
    return probe !== undefined;
  }

  get freeBytes(): number {
    const stats = statfsSync(this.dir);
    return stats.bavail * stats.bsize;
  }

  /**
   * Takes all the space but `leave` bytes (rounded to pages, as tmpfs allocates) with a file of its
   * own, as another writer on the same disk would; returns the file, whose removal gives it back.
   */
  fill(leave = 0): string {
    const file = join(this.dir, 'filler');
    const fd = openSync(file, 'w');
    const chunk = Buffer.alloc(64 * 1024, 0xaa);
    let size = 0;
    try {
      for (;;) size += writeSync(fd, chunk);
    } catch {
      // ENOSPC: the filesystem is full.
    } finally {
      closeSync(fd);
    }
    if (leave > 0) truncateSync(file, Math.max(0, size - leave));
    return file;
  }

  unmount(): void {
    execFileSync('umount', ['-l', this.dir], { stdio: 'ignore' });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
