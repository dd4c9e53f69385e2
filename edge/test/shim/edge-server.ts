/// <reference types="akamai-edgeworkers" />
/**
 * Runs an EdgeWorker the way an Akamai edge server does, for one client request at a time:
 * onClientRequest → (on a cache miss) onOriginRequest → the origin → onOriginResponse → onClientResponse,
 * or, for a worker with a responseProvider, onClientRequest → responseProvider → onClientResponse. A
 * response built at the edge (respondWith, Property Manager's Construct Response) skips the rest up to
 * onClientResponse. Like Akamai, each handler runs in a fresh copy of the worker's modules (no shared
 * memory), with Date.now() frozen at the handler's start, and its own sub-request budget.
 */
import { vi } from 'vitest';
import { isCreatedResponse } from './create-response.ts';
import {
  type ClientRequestInit,
  type ConstructedResponse,
  EdgeRequest,
  EdgeResponse,
  type Handler,
  Variables,
} from './edge-request.ts';
import { SubRequests, useSubRequests } from './http-request.ts';
import { type LogLine, useLog } from './log.ts';

export interface WorkerModule {
  onClientRequest?(request: EW.IngressClientRequest): unknown;
  onOriginRequest?(request: EW.IngressOriginRequest): unknown;
  onOriginResponse?(request: EW.EgressOriginRequest, response: EW.EgressOriginResponse): unknown;
  onClientResponse?(request: EW.EgressClientRequest, response: EW.EgressClientResponse): unknown;
  responseProvider?(request: EW.ResponseProviderRequest): unknown;
}

/** How the simulated platform behaves where Akamai's documentation leaves room. */
export interface PlatformOptions {
  /**
   * Handlers whose setVariable changes do not reach later handlers. Akamai documents it for
   * onOriginRequest ("not visible in later event handlers"), and a known issue for onOriginResponse
   * behind a cache hierarchy.
   */
  variablesLostFrom?: Handler[];
  /** Logging enabled for the EdgeWorker: the `log` module's lines are kept in `EdgeServer.log`. */
  logging?: boolean;
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
  /** Headers of the cached response (a copy of whatever the first response carried). */
  cachedHeaders?: Record<string, string>;
  /** Property Manager's Construct Response answers, after the rule's Set Variable behaviors. */
  constructResponse?: { status: number; variables?: Record<string, string> };
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
  /** What the worker logged, when logging is enabled. */
  readonly log: LogLine[] = [];
  readonly #load: () => Promise<WorkerModule>;
  readonly #property: PropertyConfig;
  readonly #platform: PlatformOptions;

  /** @param load imports the worker's main module (called once per handler, after a module reset). */
  constructor(load: () => Promise<WorkerModule>, property: PropertyConfig, platform: PlatformOptions = {}) {
    this.#load = load;
    this.#property = property;
    this.#platform = platform;
    this.subRequests = new SubRequests(property.hostnames, property.subRequestLimit);
    useSubRequests(this.subRequests);
    useLog(platform.logging ? this.log : undefined);
  }

  async handle(init: EdgeRequestInit): Promise<Exchange> {
    const base = Date.now();
    const times: HandlerTimes = {
      onClientRequest: base,
      onOriginRequest: base + 2,
      responseProvider: base + 2,
      onOriginResponse: base + 40,
      onClientResponse: base + 41,
      ...init.times,
    };
    const request = new EdgeRequest(init, new Variables(this.#property.variables));
    const errors: string[] = [];
    const lost = new Set(this.#platform.variablesLostFrom);
    const run = async (handler: Handler, call: (worker: WorkerModule) => unknown) => {
      vi.resetModules();
      const worker = await this.#load();
      const realNow = Date.now;
      Date.now = () => times[handler];
      this.subRequests.enter(handler, request.host);
      const before = lost.has(handler) ? request.variables.snapshot() : undefined;
      try {
        return await call(worker);
      } catch (err) {
        errors.push(`${handler}: ${String(err)}`);
      } finally {
        Date.now = realNow;
        if (before) request.variables.restore(before);
      }
    };
    const respond = async (answer: EdgeResponse, originHeaders?: Record<string, string>) => {
      await run('onClientResponse', (w) =>
        w.onClientResponse?.(request.view('onClientResponse'), answer.view()),
      );
      return { status: answer.status, response: answer, originHeaders, errors };
    };
    const built = (c: ConstructedResponse) => new EdgeResponse(c.status, c.headers);

    await run('onClientRequest', (w) => w.onClientRequest?.(request.view('onClientRequest')));
    if (request.constructed) return respond(built(request.constructed));
    if (init.constructResponse) {
      for (const [name, value] of Object.entries(init.constructResponse.variables ?? {}))
        request.variables.set(name, value);
      return respond(new EdgeResponse(init.constructResponse.status));
    }
    if (init.cached)
      return respond(new EdgeResponse(200, { 'content-type': 'text/html', ...init.cachedHeaders }));
    // A responseProvider stands in for the origin; if it fails, Akamai forwards the request instead.
    const provided = await run('responseProvider', (w) =>
      w.responseProvider?.(request.view('responseProvider')),
    );
    if (isCreatedResponse(provided)) return respond(built(provided));
    await run('onOriginRequest', (w) => w.onOriginRequest?.(request.view('onOriginRequest')));
    if (request.constructed) return respond(built(request.constructed));
    const originHeaders = request.headers.toRecord();
    const response = await this.#forward(request, originHeaders);
    if (response) {
      await run('onOriginResponse', (w) =>
        w.onOriginResponse?.(request.view('onOriginResponse'), response.view()),
      );
      if (request.constructed) return respond(built(request.constructed), originHeaders);
    }
    // An unreachable origin still gets the client an answer from the edge, and onClientResponse runs.
    return respond(response ?? new EdgeResponse(502), originHeaders);
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
    useLog(undefined);
  }
}
