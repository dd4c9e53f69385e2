import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestPki } from './certs.ts';

// A stand-in for Akamai's EdgeWorkers API (v1 activations) on 127.0.0.1 over TLS, which checks the
// EdgeGrid signature of every request as Akamai's edge does, written here from the EdgeGrid spec
// (techdocs.akamai.com/developer/docs/authenticate-with-edgegrid) with node:crypto, independently of
// the library the relay signs with: a request it cannot verify is answered 401 and counted.

export const CREDENTIALS = {
  client_token: 'akab-client-token-xxxxxxxxxxxxxxxx',
  client_secret: 'C113nt53KR3TN6N90yVuAgICxIRwsObLi0E67/N8eRN=',
  access_token: 'akab-access-token-xxxxxxxxxxxxxxxx',
};

/** How far a request's timestamp may be from the server's clock (Akamai allows a few minutes). */
const CLOCK_SKEW_MS = 5 * 60_000;

export interface FakeActivation {
  activationId: number;
  edgeWorkerId: number;
  version: string;
  network: string;
  status: string;
  note?: string;
  createdTime: string;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  body: string;
  verified: boolean;
  why?: string;
}

const b64hmac = (key: string, data: string) => createHmac('sha256', key).update(data).digest('base64');

/** Parses `yyyyMMddTHH:mm:ss+0000`. */
function parseTimestamp(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2}):(\d{2}):(\d{2})\+0000$/.exec(text);
  if (!m) return Number.NaN;
  const [year, month, day, hours, minutes, seconds] = m.slice(1).map(Number) as number[];
  return Date.UTC(year as number, (month as number) - 1, day, hours, minutes, seconds);
}

/** Verifies an EdgeGrid (EG1-HMAC-SHA256) request; returns why it fails, or undefined when it is good. */
export function edgeGridProblem(
  req: { method: string; host: string; path: string; authorization: string | undefined; body: string },
  credentials: typeof CREDENTIALS,
  seenNonces: Set<string>,
  now = Date.now(),
): string | undefined {
  const header = req.authorization ?? '';
  const m =
    /^(EG1-HMAC-SHA256 client_token=([^;]*);access_token=([^;]*);timestamp=([^;]*);nonce=([^;]*);)signature=(.+)$/.exec(
      header,
    );
  if (!m) return 'no EG1-HMAC-SHA256 Authorization header';
  const [, unsigned, clientToken, accessToken, timestamp, nonce, signature] = m as unknown as string[];
  if (clientToken !== credentials.client_token || accessToken !== credentials.access_token)
    return 'unknown client';
  if (!(Math.abs(now - parseTimestamp(timestamp as string)) <= CLOCK_SKEW_MS))
    return 'stale or bad timestamp';
  if (seenNonces.has(nonce as string)) return 'nonce replayed';
  const contentHash =
    req.method === 'POST' && req.body.length > 0
      ? createHash('sha256').update(req.body).digest('base64')
      : '';
  const data = [req.method, 'https', req.host, req.path, '', contentHash, unsigned].join('\t');
  const key = b64hmac(credentials.client_secret, timestamp as string);
  const expected = Buffer.from(b64hmac(key, data));
  const given = Buffer.from(signature as string);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'signature mismatch';
  seenNonces.add(nonce as string);
  return undefined;
}

export interface FakeApiOptions {
  /** Versions active per (id, network) at the start, e.g. { '42817': { STAGING: '1.4.3' } }. */
  active: Record<string, Partial<Record<'STAGING' | 'PRODUCTION', string>>>;
  /** COMPLETE an activation at once (and make its version active); otherwise it stays PENDING. */
  completeAtOnce?: boolean;
}

export class FakeEdgeWorkersApi {
  readonly requests: ReceivedRequest[] = [];
  readonly activations: FakeActivation[] = [];
  /** Statuses to answer the next requests with instead of handling them (e.g. [503] for one outage). */
  readonly failNext: number[] = [];
  readonly #server: Server;
  readonly #options: FakeApiOptions;
  readonly #nonces = new Set<string>();
  #nextId = 100;
  readonly #posted: ((activation: FakeActivation) => void)[] = [];

  private constructor(server: Server, options: FakeApiOptions) {
    this.#server = server;
    this.#options = options;
  }

  static async start(pki: TestPki, options: FakeApiOptions): Promise<FakeEdgeWorkersApi> {
    const { certFile, keyFile } = pki.issue('edgeworkers-api');
    const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) });
    const api = new FakeEdgeWorkersApi(server, options);
    server.on('request', (req, res) => void api.#handle(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return api;
  }

  /** The `host` of an .edgerc section pointing here. */
  get host(): string {
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** POSTed activations (verified ones only: an unverified request changes nothing). */
  get posts(): ReceivedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.verified);
  }

  /** Resolves at the next activation the API accepts. */
  nextActivation(): Promise<FakeActivation> {
    return new Promise((resolve) => this.#posted.push(resolve));
  }

  activeVersion(id: string, network: 'STAGING' | 'PRODUCTION'): string | undefined {
    return this.#options.active[id]?.[network];
  }

  /** Completes a pending activation: its version becomes the active one. */
  complete(activationId: number): void {
    const activation = this.activations.find((a) => a.activationId === activationId);
    if (!activation) throw new Error(`no activation ${activationId}`);
    activation.status = 'COMPLETE';
    const id = String(activation.edgeWorkerId);
    this.#options.active[id] ??= {};
    const byNetwork = this.#options.active[id];
    byNetwork[activation.network as 'STAGING' | 'PRODUCTION'] = activation.version;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const why = edgeGridProblem(
      { method, host: req.headers.host ?? '', path, authorization: req.headers.authorization, body },
      CREDENTIALS,
      this.#nonces,
    );
    this.requests.push({ method, path, body, verified: why === undefined, ...(why ? { why } : {}) });
    const json = (status: number, value: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    if (why) return void json(401, { title: 'Unauthorized', detail: why });
    const failure = this.failNext.shift();
    if (failure !== undefined) return void json(failure, { title: 'injected failure' });
    const url = new URL(path, 'https://fake');
    const id = /^\/edgeworkers\/v1\/ids\/(\d+)\/activations$/.exec(url.pathname)?.[1];
    if (!id) return void json(404, { title: 'Not Found' });
    if (method === 'GET') return void json(200, { activations: this.#list(id, url.searchParams) });
    const { version, network, note } = JSON.parse(body) as {
      version: string;
      network: string;
      note?: string;
    };
    if (network !== 'STAGING' && network !== 'PRODUCTION') return void json(400, { title: 'bad network' });
    const activation: FakeActivation = {
      activationId: this.#nextId++,
      edgeWorkerId: Number(id),
      version,
      network,
      status: 'PENDING',
      ...(note === undefined ? {} : { note }),
      createdTime: new Date().toISOString(),
    };
    this.activations.push(activation);
    if (this.#options.completeAtOnce) this.complete(activation.activationId);
    json(201, activation);
    for (const resolve of this.#posted.splice(0)) resolve(activation);
  }

  #list(id: string, query: URLSearchParams): FakeActivation[] {
    const mine = this.activations.filter((a) => String(a.edgeWorkerId) === id);
    if (query.get('activeOnNetwork') === 'true') {
      const networks = query.has('network') ? [query.get('network') as string] : ['STAGING', 'PRODUCTION'];
      return networks.flatMap((network) => {
        const version = this.#options.active[id]?.[network as 'STAGING' | 'PRODUCTION'];
        if (version === undefined) return [];
        const latest = mine.filter((a) => a.version === version && a.network === network).at(-1);
        return [
          latest ?? {
            activationId: 1,
            edgeWorkerId: Number(id),
            version,
            network,
            status: 'COMPLETE',
            createdTime: '2026-01-01T00:00:00Z',
          },
        ];
      });
    }
    const version = query.get('version');
    return version === null ? mine : mine.filter((a) => a.version === version);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close').catch(() => {});
  }
}
