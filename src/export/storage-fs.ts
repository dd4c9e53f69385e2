import { closeSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';

/** The file-system calls that can fail when the disk fills up; a test substitutes a disk that does. */
export interface StorageFs {
  /** Creates a new file for writing (fails if it exists). */
  open(path: string): number;
  /** Writes `data` from `offset` on; returns the bytes written, which may be fewer (a full disk). */
  write(fd: number, data: Uint8Array, offset: number): number;
  close(fd: number): void;
  /** What the filesystem holding `dir` still has for this process, and its allocation unit. */
  space(dir: string): { free: number; blockSize: number };
}

export const nodeStorageFs: StorageFs = {
  open: (path) => openSync(path, 'wx'),
  write: (fd, data, offset) => writeSync(fd, data, offset),
  close: closeSync,
  space(dir) {
    const stats = statfsSync(dir);
    return { free: stats.bavail * stats.bsize, blockSize: stats.bsize };
  },
};

/**
 * Writes a whole file or none: a short write is continued (the next write reports the error, such
 * as ENOSPC), and on any error the file is removed, so a failed batch leaves no empty or torn record.
 * `flush` runs once the data is written, before the file is closed (an fsync, when durability asks).
 */
export function writeFile(
  fs: StorageFs,
  file: string,
  data: Uint8Array,
  flush: (fd: number) => void = () => {},
): void {
  const fd = fs.open(file);
  try {
    for (let done = 0; done < data.length; ) {
      const wrote = fs.write(fd, data, done);
      if (wrote <= 0) throw new Error(`short write: ${done} of ${data.length} bytes`);
      done += wrote;
    }
    flush(fd);
  } catch (err) {
    try {
      fs.close(fd);
    } finally {
      rmSync(file, { force: true });
    }
    throw err;
  }
  try {
    fs.close(fd);
  } catch (err) {
    rmSync(file, { force: true });
    throw err;
  }
}
