/// <reference types="akamai-edgeworkers" />
/**
 * Shim of the EdgeWorkers `http-request` module. A sub-request reaches only hostnames served through
 * the property (others answer 400, as on Akamai), takes no port, resolves relative URLs against the
 * parent request, and counts against the per-handler limit (Dynamic Compute: 4). Calls that are not
 * awaited still complete after the handler returns, as on Akamai; `SubRequests.settled()` waits for them.
 */
import type { HttpResponse } from 'http-request';

/** One sub-request as the shim saw it. */
export interface SubRequestRecord {
  handler: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  /** HTTP status, or the reason it failed (timeout, limit, bad URL). */
  outcome: number | string;
}

/** Maximum wall time of one sub-request in an event handler (Dynamic Compute). */
const MAX_SUB_REQUEST_MS = 5500;

/** The sub-requests of the event handler that is running, with the property's hostname routing. */
export class SubRequests {
  readonly records: SubRequestRecord[] = [];
  readonly #pending = new Set<Promise<unknown>>();
  readonly #hostnames: Record<string, string>;
  readonly #limit: number;
  #handler = '';
  #parentHost = '';
  #count = 0;

  /**
   * @param hostnames hostnames served through the property, each mapped to the loopback base URL
   *   where its requests go (the origin, or the relay behind a beacon hostname).
   */
  constructor(hostnames: Record<string, string>, limit = 4) {
    this.#hostnames = hostnames;
    this.#limit = limit;
  }

  /** Starts a new event handler's budget. */
  enter(handler: string, parentHost: string): void {
    this.#handler = handler;
    this.#parentHost = parentHost;
    this.#count = 0;
  }

  /** Waits for every sub-request started so far, awaited or not. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  send(
    url: string,
    options: Parameters<typeof import('http-request').httpRequest>[1] = {},
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.headers ?? {}))
      headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    const record: SubRequestRecord = {
      handler: this.#handler,
      url,
      method: options.method ?? 'GET',
      headers,
      body: typeof options.body === 'string' ? options.body : '',
      outcome: 'pending',
    };
    this.records.push(record);
    const done = this.#fetch(record, options.timeout);
    this.#pending.add(done);
    done.then(
      () => this.#pending.delete(done),
      () => this.#pending.delete(done),
    );
    return done;
  }

  async #fetch(record: SubRequestRecord, timeout = MAX_SUB_REQUEST_MS): Promise<HttpResponse> {
    this.#count += 1;
    if (this.#count > this.#limit)
      throw this.#fail(record, 'limit', 'sub-request limit per event handler reached');
    const target = new URL(record.url, `https://${this.#parentHost}`);
    if (target.port !== '')
      throw this.#fail(record, 'port', 'port numbers are not supported in sub-requests');
    const base = this.#hostnames[target.hostname];
    if (base === undefined) {
      record.outcome = 400;
      return response(400, new Headers(), '');
    }
    try {
      const res = await fetch(`${base}${target.pathname}${target.search}`, {
        method: record.method,
        headers: record.headers,
        body: record.body || undefined,
        signal: AbortSignal.timeout(Math.min(timeout, MAX_SUB_REQUEST_MS)),
      });
      const text = await res.text();
      record.outcome = res.status;
      return response(res.status, res.headers, text);
    } catch (err) {
      throw this.#fail(record, (err as Error).name === 'TimeoutError' ? 'timeout' : 'network', String(err));
    }
  }

  #fail(record: SubRequestRecord, outcome: string, message: string): Error {
    record.outcome = outcome;
    return new Error(`httpRequest ${record.url}: ${message}`);
  }
}

function response(status: number, headers: Headers, text: string): HttpResponse {
  const all: EW.Headers = {};
  headers.forEach((value, key) => {
    all[key] = [value];
  });
  return {
    status,
    ok: status >= 200 && status < 300,
    getHeader: (name) => all[name.toLowerCase()] ?? null,
    getHeaders: () => all,
    text: async () => text,
    json: async () => JSON.parse(text),
  } as HttpResponse;
}

// The edge server being simulated; kept on globalThis because every handler loads a fresh copy of
// the worker's modules (handlers share no memory on Akamai), this one included.
const ACTIVE = Symbol.for('edge-relay.edgeworkers-shim.sub-requests');
const slot = globalThis as { [ACTIVE]?: SubRequests | undefined };

/** Installs the sub-requests of the edge server being simulated (one at a time). */
export function useSubRequests(subRequests: SubRequests | undefined): void {
  slot[ACTIVE] = subRequests;
}

/** The `http-request` module's one export. */
export const httpRequest: typeof import('http-request').httpRequest = (url, options) => {
  const active = slot[ACTIVE];
  if (!active) return Promise.reject(new Error('httpRequest called outside an event handler'));
  return active.send(url, options);
};
