import { promisify } from 'node:util';
import { constants, gzip } from 'node:zlib';
import type { ExporterConfig } from './config.ts';

const gzipAsync = promisify(gzip);

/**
 * The exporter's compression step: gzip at level 1 (about half the CPU of the default level for span
 * data) on libuv's pool, or none. Tracks what is under way so that a drain can wait for it.
 */
export class Compression {
  readonly gzip: boolean;
  readonly #running = new Set<Promise<void>>();

  constructor(compression: ExporterConfig['compression']) {
    this.gzip = compression === 'gzip';
  }

  /** Compresses `encoded` and hands the body to `then`; an error (there or in `then`) goes to `failed`. */
  run(encoded: Uint8Array, then: (body: Uint8Array) => void, failed: (err: Error) => void): void {
    const compressed = this.gzip
      ? gzipAsync(encoded, { level: constants.Z_BEST_SPEED })
      : Promise.resolve(encoded);
    const running = compressed
      .then(then)
      .catch(failed)
      .finally(() => this.#running.delete(running));
    this.#running.add(running);
  }

  /** Resolves once every body under way has been handed on (or its error reported). */
  async idle(): Promise<void> {
    await Promise.all(this.#running);
  }
}
