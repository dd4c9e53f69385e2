/**
 * Shim of the EdgeWorkers `crypto` built-in module: `crypto.getRandomValues`, as Web Crypto defines it
 * (integer typed arrays of at most 65,536 bytes). EdgeWorkers has no global `crypto`: code must import
 * this module. A test can put a seeded generator in place of the platform's (`useRandom`).
 */
// Node's global Web Crypto: importing node:crypto here would get this very module, as the tests mock
// the bare name `crypto`, which Node's module shares.
const platform = globalThis.crypto;

// Kept on globalThis: every handler loads a fresh copy of the worker's modules, this one included.
const SOURCE = Symbol.for('edge-relay.edgeworkers-shim.random');
const slot = globalThis as { [SOURCE]?: ((bytes: Uint8Array) => void) | undefined };

/** Fills random bytes from `fill` instead of the platform's generator; undefined puts that back. */
export function useRandom(fill: ((bytes: Uint8Array) => void) | undefined): void {
  slot[SOURCE] = fill;
}

export const crypto = {
  getRandomValues<T extends ArrayBufferView>(array: T): T {
    if (array instanceof Float32Array || array instanceof Float64Array || array instanceof DataView)
      throw new TypeError('getRandomValues: an integer typed array is required');
    if (array.byteLength > 65_536) throw new RangeError('getRandomValues: more than 65536 bytes');
    const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    const fill = slot[SOURCE];
    if (fill) fill(bytes);
    else platform.getRandomValues(bytes);
    return array;
  },
};

/**
 * A seeded generator of bytes (xorshift32): the same seed gives the same ids, so statistical tests are
 * reproducible. Not for anything but tests.
 */
export function seededBytes(seed: number): (bytes: Uint8Array) => void {
  let x = seed >>> 0 || 1;
  return (bytes) => {
    for (let i = 0; i < bytes.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      bytes[i] = x & 0xff;
    }
  };
}
