import { gunzipSync } from 'node:zlib';
import { invalid, type RequestError, tooLarge, unsupportedEncoding } from '../lib/errors.ts';

/**
 * Undoes `content-encoding` on a raw body. Decompression is bounded by the same byte limit as the
 * body itself, so a small gzip bomb is a 413, not a memory spike. Beacons are small: synchronous
 * gunzip costs less than a hop to the thread pool.
 */
export function decodeContentEncoding(
  body: Buffer,
  encoding: string | undefined,
  limit: number,
): Buffer | RequestError {
  if (encoding === undefined || encoding === 'identity' || encoding === '') return body;
  if (encoding.toLowerCase() !== 'gzip') return unsupportedEncoding(encoding);
  try {
    return gunzipSync(body, { maxOutputLength: limit });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return tooLarge(limit);
    return invalid(`body is not valid gzip: ${(err as Error).message}`);
  }
}
