/**
 * Shim of the EdgeWorkers `crypto` built-in module: `crypto.getRandomValues`, as Web Crypto defines it
 * (integer typed arrays of at most 65,536 bytes), and of `crypto.subtle` the HMAC the beacon signer
 * uses (`importKey` of a raw key, `sign`), over Node's Web Crypto. Other subtle calls are refused, so a
 * test cannot come to rely on what the shim does not model. EdgeWorkers has no global `crypto`: code
 * must import this module. A test can put a seeded generator in place of the platform's (`useRandom`).
 */
import type { webcrypto } from 'node:crypto';

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

type CryptoKey = webcrypto.CryptoKey;
type Algorithm = string | { name: string; hash?: string | { name: string } };
const nameOf = (algorithm: Algorithm): string => (typeof algorithm === 'string' ? algorithm : algorithm.name);

function hmacOnly(call: string, algorithm: Algorithm): void {
  if (nameOf(algorithm).toUpperCase() !== 'HMAC')
    throw new Error(`crypto.subtle.${call}: the shim models HMAC only, not ${nameOf(algorithm)}`);
}

// Async like Web Crypto's, so that a refused call rejects rather than throws.
const subtle = {
  async importKey(
    format: string,
    keyData: Uint8Array | ArrayBuffer,
    algorithm: Algorithm,
    extractable: boolean,
    usages: webcrypto.KeyUsage[],
  ): Promise<CryptoKey> {
    hmacOnly('importKey', algorithm);
    if (format !== 'raw')
      throw new Error(`crypto.subtle.importKey: the shim takes raw HMAC keys, not ${format}`);
    return platform.subtle.importKey('raw', keyData, algorithm, extractable, usages);
  },
  async sign(algorithm: Algorithm, key: CryptoKey, data: Uint8Array | ArrayBuffer): Promise<ArrayBuffer> {
    hmacOnly('sign', algorithm);
    return platform.subtle.sign(nameOf(algorithm), key, data);
  },
};

export const crypto = {
  subtle,
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
