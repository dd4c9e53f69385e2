/// <reference types="akamai-edgeworkers" />
/**
 * Runs an EdgeWorker the way an Akamai edge server does, for one client request at a time:
 * onClientRequest → (on a cache miss) onOriginRequest → the origin → onOriginResponse → onClientResponse.
 * Like Akamai, each handler runs in a fresh copy of the worker's modules (no shared memory), with
 * Date.now() frozen at the handler's start, and its own sub-request budget.
 */
import { vi } from 'vitest';
import {
  type ClientRequestInit,
  EdgeRequest,
  EdgeResponse,
  type Handler,
  Variables,
} from './edge-request.ts';
import { SubRequests, useSubRequests } from './http-request.ts';

export interface WorkerModule {
  onClientRequest?(request: EW.IngressClientRequest): unknown;
  onOriginRequest?(request: EW.IngressOriginRequest): unknown;
  onOriginResponse?(request: EW.EgressOriginRequest, response: EW.EgressOriginResponse): unknown;
  onClientResponse?(request: EW.EgressClientRequest, response: EW.EgressClientResponse): unknown;
}

export interface PropertyConfig {
  /** Declared PMUSER_ variables, with the values the property's Set Variable behaviors give them. */
  variables: Record<string, string>;
  /** Hostnames served through the property → loopback base URL (the site's origin, the relay). */
  hostnames: Record<string, string>;
  subRequestLimit?: number;
}

/** Epoch milliseconds at which each handler starts (what Date.now() returns inside it). */
export type HandlerTimes = Record<Handler, number>;

export interface EdgeRequestInit extends ClientRequestInit {
  times?: Partial<HandlerTimes>;
  /** Served from cache: no origin handlers, no origin request. */
  cached?: boolean;
}

export interface Exchange {
  status: number;
  response: EdgeResponse;
  /** Headers the origin received, when the request went forward. */
  originHeaders?: Record<string, string>;
  /** Errors thrown out of handlers (a well-behaved worker has none). */
  errors: string[];
}

export class EdgeServer {
  readonly subRequests: SubRequests;
  readonly #load: () => Promise<WorkerModule>;
  readonly #property: PropertyConfig;

  /** @param load imports the worker's main module (called once per handler, after a module reset). */
  constructor(load: () => Promise<WorkerModule>, property: PropertyConfig) {
    this.#load = load;
    this.#property = property;
    this.subRequests = new SubRequests(property.hostnames, property.subRequestLimit);
    useSubRequests(this.subRequests);
  }

  async handle(init: EdgeRequestInit): Promise<Exchange> {
    const base = Date.now();
    const times: HandlerTimes = {
      onClientRequest: base,
      onOriginRequest: base + 2,
      onOriginResponse: base + 40,
      onClientResponse: base + 41,
      ...init.times,
    };
    const request = new EdgeRequest(init, new Variables(this.#property.variables));
    const errors: string[] = [];
    const run = async (handler: Handler, call: (worker: WorkerModule) => unknown) => {
      vi.resetModules();
      const worker = await this.#load();
      const realNow = Date.now;
      Date.now = () => times[handler];
      this.subRequests.enter(handler, request.host);
      try {
        await call(worker);
      } catch (err) {
        errors.push(`${handler}: ${String(err)}`);
      } finally {
        Date.now = realNow;
      }
    };

    await run('onClientRequest', (w) => w.onClientRequest?.(request.view('onClientRequest')));
    if (init.cached) {
      const response = new EdgeResponse(200, { 'content-type': 'text/html' });
      await run('onClientResponse', (w) =>
        w.onClientResponse?.(request.view('onClientResponse'), response.view()),
      );
      return { status: response.status, response, errors };
    }
    await run('onOriginRequest', (w) => w.onOriginRequest?.(request.view('onOriginRequest')));
    const originHeaders = request.headers.toRecord();
    const response = await this.#forward(request, originHeaders);
    if (response) {
      await run('onOriginResponse', (w) =>
        w.onOriginResponse?.(request.view('onOriginResponse'), response.view()),
      );
    }
    // An unreachable origin still gets the client an answer from the edge, and onClientResponse runs.
    const answer = response ?? new EdgeResponse(502);
    await run('onClientResponse', (w) =>
      w.onClientResponse?.(request.view('onClientResponse'), answer.view()),
    );
    return { status: answer.status, response: answer, originHeaders, errors };
  }

  async #forward(request: EdgeRequest, headers: Record<string, string>): Promise<EdgeResponse | undefined> {
    const origin = this.#property.hostnames[request.host];
    if (origin === undefined) throw new Error(`${request.host} is not served through the property`);
    try {
      const res = await fetch(`${origin}${request.pathAndQuery}`, { method: request.method, headers });
      await res.arrayBuffer();
      return new EdgeResponse(res.status, Object.fromEntries(res.headers));
    } catch {
      return undefined;
    }
  }

  /** Waits for every sub-request started so far (beacons are sent unawaited). */
  settled(): Promise<void> {
    return this.subRequests.settled();
  }

  close(): void {
    useSubRequests(undefined);
  }
}
