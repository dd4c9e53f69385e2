import { gunzipSync, inflateSync, zstdDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Compression } from './compression.ts';

const encoded = new TextEncoder().encode('an encoded export request '.repeat(20));
const unexpected = (err: Error) => expect.fail(err.message);

describe('Compression', () => {
  it.each([
    ['gzip', (body: Uint8Array) => new Uint8Array(gunzipSync(body))],
    ['zstd', (body: Uint8Array) => new Uint8Array(zstdDecompressSync(body))],
    ['deflate', (body: Uint8Array) => new Uint8Array(inflateSync(body))],
    ['none', (body: Uint8Array) => body],
  ] as const)('hands the body on, compressed with %s', async (setting, decompress) => {
    const compression = new Compression(setting);
    const bodies: Uint8Array[] = [];
    compression.run(encoded, (body) => bodies.push(body), unexpected);
    await compression.idle();
    expect(bodies.map(decompress)).toEqual([encoded]);
  });

  it('is idle only once every body under way has been handed on', async () => {
    const compression = new Compression('gzip');
    let handed = 0;
    for (let i = 0; i < 5; i++) compression.run(encoded, () => handed++, unexpected);
    await compression.idle();
    expect(handed).toBe(5);
  });

  it('reports an error instead of handing on', async () => {
    const compression = new Compression('none');
    const errors: string[] = [];
    compression.run(
      encoded,
      () => {
        throw new Error('no room');
      },
      (err) => errors.push(err.message),
    );
    await compression.idle();
    expect(errors).toEqual(['no room']);
  });
});
