import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sha256Hex } from '../lib/digest.ts';

/** What a file that cannot be read stands as. */
const MISSING = 'missing';

/**
 * The files a config was read from, by absolute path, each with a digest of what it held as it was
 * read: a reload compares what is on disk with what the running config was built from, so that a
 * change landing between reading the config and looking at its files is not taken as applied. Digests
 * rather than the texts keep no second copy of a secret.
 */
export class FilesRead {
  readonly #digests = new Map<string, string>();

  /** `content` is undefined when the file could not be read. */
  add(path: string, content: string | undefined): void {
    this.#digests.set(path, content === undefined ? MISSING : sha256Hex(content));
  }

  get paths(): string[] {
    return [...this.#digests.keys()];
  }

  /** One digest of them all: equal exactly when every one of these files holds what it held. */
  fingerprint(): string {
    const hash = createHash('sha256');
    for (const path of this.paths.sort())
      hash
        .update(path)
        .update('\0')
        .update(this.#digests.get(path) as string);
    return hash.digest('hex');
  }

  /** These paths as they are on disk now. */
  static onDisk(paths: Iterable<string>): FilesRead {
    const files = new FilesRead();
    for (const path of paths) {
      let content: string | undefined;
      try {
        content = readFileSync(path, 'utf8');
      } catch {
        content = undefined;
      }
      files.add(path, content);
    }
    return files;
  }
}
