// @ts-check
/// <reference types="akamai-edgeworkers" />
/**
 * Signed beacons for edge-relay (docs/edge.md, "Signed beacons"): instead of a static bearer token,
 * each beacon carries a short-lived HS256 JWT made here with the EdgeWorkers `crypto` module's HMAC,
 * from a key the property holds in a sensitive variable; its `kid` names the key, so that keys rotate.
 * A worker imports this module only when it signs its beacons, so the tracer (index.js) keeps its
 * size budget. Like the tracer, it never throws into the worker's code.
 */
// biome-ignore lint/style/useNodejsImportProtocol: the EdgeWorkers built-in module, not Node's
import { crypto } from 'crypto';
import { logger } from 'log';

/** @typedef {import('./index.js').Tracer} Tracer */
/** @typedef {import('./index.js').TracerOptions} TracerOptions */

/**
 * @typedef {object} SigningOptions
 * @property {string} [keyVariable] PMUSER_ variable that holds the key (security setting: sensitive);
 *   default PMUSER_EDGE_RELAY_KEY.
 * @property {string} [keyIdVariable] PMUSER_ variable that holds the key's id (its `id` in the relay's
 *   receiver.auth.beacon_keys); default PMUSER_EDGE_RELAY_KEY_ID.
 * @property {number} [lifetime] Seconds a token is valid for (default 60; the relay refuses tokens living
 *   longer than its receiver.auth.beacon_token_max_lifetime).
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Base64url without padding (RFC 7515 §2); EdgeWorkers has no Buffer, and its `encoding` module would be
 * one more built-in for three short strings.
 * @param {Uint8Array} bytes
 */
function base64url(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] ?? 0) * 65536 + (bytes[i + 1] ?? 0) * 256 + (bytes[i + 2] ?? 0);
    // 4 characters per 3 bytes; the last group of 1 or 2 bytes takes 2 or 3.
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 4) / 3));
    for (let j = 0; j < chars; j++) out += ALPHABET[(n >> (18 - 6 * j)) & 63];
  }
  return out;
}

/**
 * Printable ASCII as bytes: all the token is made of (JSON of ASCII values), and all a key may be, so
 * that the relay reads the same bytes from its file.
 * @param {string} text
 */
const ascii = (text) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** @param {object} value */
const part = (value) => base64url(ascii(JSON.stringify(value)));

/**
 * A token for this beacon: HS256 over `{"alg":"HS256","kid":…}.{"iat":…,"exp":…}` (no `typ`: RFC 7519
 * makes it optional, and every byte is sent with each beacon), with the key and its id read from the
 * property's variables. Rejects when they are not set.
 * @param {EW.EgressClientRequest} request
 * @param {SigningOptions} [options]
 * @returns {Promise<string>}
 */
export async function beaconToken(request, options = {}) {
  const secret = request.getVariable(options.keyVariable ?? 'PMUSER_EDGE_RELAY_KEY');
  const kid = request.getVariable(options.keyIdVariable ?? 'PMUSER_EDGE_RELAY_KEY_ID');
  if (!secret || !kid || /[^!-~]/.test(secret + kid)) throw 'signing: no key and key id of printable ASCII';
  // Date.now() is the handler's start: a token made in onClientResponse is fresh for its beacon.
  const iat = Math.floor(Date.now() / 1000);
  const input = `${part({ alg: 'HS256', kid })}.${part({ iat, exp: iat + (options.lifetime ?? 60) })}`;
  const key = await crypto.subtle.importKey('raw', ascii(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return `${input}.${base64url(new Uint8Array(await crypto.subtle.sign('HMAC', key, ascii(input))))}`;
}

/**
 * The tracer of `createTracer(options)` (index.js), its beacons signed: onClientResponse makes the
 * token first (the handler waits for the HMAC, a few µs, never for the beacon) and then sends the beacon
 * with it. Without a key the beacon goes unsigned, and the problem is logged.
 * @param {(options: TracerOptions) => Tracer} createTracer
 * @param {TracerOptions} options
 * @param {SigningOptions} [signing]
 * @returns {Tracer}
 */
export function signedTracer(createTracer, options, signing) {
  // The tracer reads `token` from its options as it sends each beacon: this copy's is that beacon's.
  const own = { ...options };
  const tracer = createTracer(own);
  return {
    ...tracer,
    onClientResponse: (request, response) =>
      beaconToken(request, signing)
        .catch((problem) => void logger.warn('edge-relay: %s', problem))
        .then((token) => {
          own.token = token;
          tracer.onClientResponse(request, response);
        }),
  };
}
