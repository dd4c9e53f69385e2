/// <reference types="akamai-edgeworkers" />
/**
 * Shim of the EdgeWorkers request and response objects. Each event handler gets a view with only the
 * methods Akamai gives it (headers are read-only in onOriginResponse and onClientResponse; a
 * responseProvider can neither set headers nor variables), and variables behave as Property Manager's:
 * only declared PMUSER_ names, 1024 characters in total.
 */

export type Handler =
  | 'onClientRequest'
  | 'onOriginRequest'
  | 'onOriginResponse'
  | 'onClientResponse'
  | 'responseProvider';

/** Request headers as a client sends them: by name, or as lines (any case, names repeated). */
export type HeaderInit = Record<string, string | string[]> | [string, string][];

/** Total characters of all user-defined variables (default tiers; 4000 on request). */
export const VARIABLES_LIMIT = 1024;

/** HTTP headers with case-insensitive names and repeated values, as EdgeWorkers exposes them. */
export class HeaderMap {
  readonly #values = new Map<string, string[]>();

  constructor(init: HeaderInit = {}) {
    if (Array.isArray(init)) for (const [name, value] of init) this.add(name, value);
    else for (const [name, value] of Object.entries(init)) this.set(name, value);
  }

  get(name: string): string[] | null {
    return this.#values.get(name.toLowerCase()) ?? null;
  }

  all(): EW.Headers {
    return Object.fromEntries(this.#values);
  }

  set(name: string, value: string | string[]): void {
    this.#values.set(name.toLowerCase(), Array.isArray(value) ? [...value] : [value]);
  }

  add(name: string, value: string | string[]): void {
    this.set(name, [...(this.get(name) ?? []), ...(Array.isArray(value) ? value : [value])]);
  }

  remove(name: string): void {
    this.#values.delete(name.toLowerCase());
  }

  /** One value per header, as an HTTP client sends them. */
  toRecord(): Record<string, string> {
    return Object.fromEntries([...this.#values].map(([k, v]) => [k, v.join(', ')]));
  }
}

/**
 * The property's user-defined variables for one request. Code sees only PMUSER_ variables that the
 * property declares (AK_ built-ins reach it only when a Set Variable behavior copies them).
 */
export class Variables {
  #values: Map<string, string>;
  readonly #limit: number;

  constructor(declared: Record<string, string>, limit = VARIABLES_LIMIT) {
    this.#values = new Map(Object.entries(declared));
    this.#limit = limit;
    if (this.size() > limit) throw new Error(`the property's variables exceed ${limit} characters`);
  }

  get(name: string): string | undefined {
    return name.startsWith('PMUSER_') ? this.#values.get(name) : undefined;
  }

  set(name: string, value: string): void {
    if (!name.startsWith('PMUSER_')) throw new Error(`setVariable: ${name} does not start with PMUSER_`);
    if (!this.#values.has(name)) throw new Error(`setVariable: ${name} is not declared in the property`);
    if (typeof value !== 'string') throw new TypeError(`setVariable: ${name} value must be a string`);
    const total = this.size() - (this.#values.get(name) ?? '').length + value.length;
    if (total > this.#limit)
      throw new Error(
        `setVariable: ${name} would bring the variables to ${total} characters (limit ${this.#limit})`,
      );
    this.#values.set(name, value);
  }

  /** The values as they are now, for `restore`. */
  snapshot(): ReadonlyMap<string, string> {
    return new Map(this.#values);
  }

  /** Puts back the values of a snapshot: what a handler set is then lost to later handlers. */
  restore(snapshot: ReadonlyMap<string, string>): void {
    this.#values = new Map(snapshot);
  }

  /** Characters used by all variables' values. */
  size(): number {
    let total = 0;
    for (const value of this.#values.values()) total += value.length;
    return total;
  }
}

export interface ClientRequestInit {
  method?: string;
  /** Absolute URL the client asked for, e.g. `https://www.example.com/product/1?ref=a`. */
  url: string;
  headers?: HeaderInit;
  clientIp?: string;
}

/** A response the worker built with respondWith, or Property Manager's Construct Response. */
export interface ConstructedResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
}

type AnyRequest = EW.IngressClientRequest &
  EW.IngressOriginRequest &
  EW.EgressOriginRequest &
  EW.EgressClientRequest &
  EW.ResponseProviderRequest;

/** One client request as it crosses the event handlers. */
export class EdgeRequest {
  readonly headers: HeaderMap;
  readonly variables: Variables;
  /** Set by respondWith: the edge answers with it, and handlers after it are skipped as on Akamai. */
  constructed: ConstructedResponse | undefined;
  readonly #url: URL;
  readonly #method: string;
  readonly #clientIp: string;

  constructor(init: ClientRequestInit, variables: Variables) {
    this.#url = new URL(init.url);
    this.#method = init.method ?? 'GET';
    this.#clientIp = init.clientIp ?? '198.51.100.20';
    this.headers = new HeaderMap(init.headers);
    this.variables = variables;
  }

  get host(): string {
    return this.#url.hostname;
  }

  get method(): string {
    return this.#method;
  }

  get pathAndQuery(): string {
    return `${this.#url.pathname}${this.#url.search}`;
  }

  /** The request object an event handler receives. */
  view(handler: Handler): AnyRequest {
    const headers = this.headers;
    const variables = this.variables;
    const view: Record<string, unknown> = {
      host: this.#url.hostname,
      method: this.#method,
      path: this.#url.pathname,
      scheme: this.#url.protocol.slice(0, -1),
      query: this.#url.search.slice(1),
      url: this.pathAndQuery,
      cpCode: 123456,
      clientIp: this.#clientIp,
      userLocation: undefined,
      device: undefined,
      getHeader: (name: string) => headers.get(name),
      getHeaders: () => headers.all(),
      getVariable: (name: string) => variables.get(name),
    };
    if (handler === 'responseProvider') {
      // The client request's body: the shim's requests have none.
      Object.assign(view, {
        body: undefined,
        text: async () => '',
        json: async () => ({}),
        arrayBuffer: async () => new ArrayBuffer(0),
      });
      return Object.freeze(view) as unknown as AnyRequest;
    }
    Object.assign(view, {
      setVariable: (name: string, value: string) => variables.set(name, value),
      respondWith: (status: number, headers: Record<string, string | string[]>, body: string) => {
        if (!(status >= 100 && status <= 599)) throw new RangeError(`respondWith: status ${status}`);
        this.constructed = { status, headers, body };
      },
      wasTerminated: () => this.constructed !== undefined,
    });
    if (handler === 'onClientRequest' || handler === 'onOriginRequest') {
      Object.assign(view, {
        setHeader: (name: string, value: string | string[]) => headers.set(name, value),
        addHeader: (name: string, value: string | string[]) => headers.add(name, value),
        removeHeader: (name: string) => headers.remove(name),
      });
    }
    return Object.freeze(view) as unknown as AnyRequest;
  }
}

/** The response of onOriginResponse and onClientResponse: status and mutable headers. */
export class EdgeResponse {
  status: number;
  readonly headers: HeaderMap;

  constructor(status: number, headers: Record<string, string | string[]> = {}) {
    this.status = status;
    this.headers = new HeaderMap(headers);
  }

  view(): EW.EgressOriginResponse & EW.EgressClientResponse {
    const headers = this.headers;
    const owner = this;
    return {
      get status() {
        return owner.status;
      },
      set status(value: number) {
        owner.status = value;
      },
      getHeader: (name: string) => headers.get(name),
      getHeaders: () => headers.all(),
      setHeader: (name: string, value: string | string[]) => headers.set(name, value),
      addHeader: (name: string, value: string | string[]) => headers.add(name, value),
      removeHeader: (name: string) => headers.remove(name),
    };
  }
}
