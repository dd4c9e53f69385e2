import { promisify } from 'node:util';
import { constants, deflate, gzip, zstdCompress } from 'node:zlib';
import type { CompressionName } from './body-format.ts';

// Fast settings throughout: for span data gzip level 1 takes about half the CPU of the default level
// (../shared/design-notes.md), and the relay's CPU per span matters more than a few percent of bytes.
const gzipAsync = promisify(gzip);
const deflateAsync = promisify(deflate);
const zstdAsync = promisify(zstdCompress);

const COMPRESS: Record<CompressionName, (body: Uint8Array) => Promise<Uint8Array>> = {
  gzip: (body) => gzipAsync(body, { level: constants.Z_BEST_SPEED }),
  deflate: (body) => deflateAsync(body, { level: constants.Z_BEST_SPEED }),
  zstd: (body) => zstdAsync(body, { params: { [constants.ZSTD_c_compressionLevel]: 1 } }),
  none: async (body) => body,
};

/**
 * The exporter's compression step, on libuv's pool (never on the worker's event loop). Tracks what is
 * under way so that a drain can wait for it.
 */
export class Compression {
  readonly name: CompressionName;
  readonly #running = new Set<Promise<void>>();

  constructor(name: CompressionName) {
    this.name = name;
  }

  /** Compresses `encoded` and hands the body to `then`; an error (there or in `then`) goes to `failed`. */
  run(encoded: Uint8Array, then: (body: Uint8Array) => void, failed: (err: Error) => void): void {
    const running = COMPRESS[this.name](encoded)
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
