/**
 * Shim of the EdgeWorkers `create-response` built-in module: the value a responseProvider resolves to.
 * On Akamai it is opaque; here it is the response the edge server then sends.
 */
import type { ConstructedResponse } from './edge-request.ts';

const RESPONSE = Symbol.for('edge-relay.edgeworkers-shim.created-response');

export interface CreatedResponse extends ConstructedResponse {
  [RESPONSE]: true;
}

export function createResponse(
  status: number,
  headers: Record<string, string | string[]>,
  body: string,
): CreatedResponse {
  if (!(status >= 100 && status <= 599)) throw new RangeError(`createResponse: status ${status}`);
  for (const [name, value] of Object.entries(headers))
    if (typeof value !== 'string' && !Array.isArray(value))
      throw new TypeError(`createResponse: header ${name} must be a string or an array of strings`);
  return { status, headers, body, [RESPONSE]: true };
}

export function isCreatedResponse(value: unknown): value is CreatedResponse {
  return typeof value === 'object' && value !== null && RESPONSE in value;
}
