import type { webcrypto } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll } from 'vitest';

interface IssuerKey {
  alg: string;
  named: boolean;
  privateKey: webcrypto.CryptoKey;
  publicJwk: JWK;
}

/**
 * A test OpenID Connect issuer on 127.0.0.1: its discovery document names its JWKS, whose keys (made
 * with jose) the test adds and removes to rotate them, and it signs tokens with any of them, published
 * or not. It counts the requests for each document, so that a test can see when the relay fetched them.
 */
export class OidcIssuer {
  readonly #server: Server;
  readonly #keys = new Map<string, IssuerKey>();
  readonly #published = new Set<string>();
  jwksRequests = 0;
  discoveryRequests = 0;

  readonly #scheme: 'http' | 'https';

  private constructor(server: Server, scheme: 'http' | 'https') {
    this.#server = server;
    this.#scheme = scheme;
  }

  /** With `tls` (a certificate for 127.0.0.1) the issuer speaks HTTPS. */
  static async start(tls?: ServerOptions): Promise<OidcIssuer> {
    const server = tls ? createHttpsServer(tls) : createServer();
    const issuer = new OidcIssuer(server, tls ? 'https' : 'http');
    server.on('request', (request, response) => {
      const send = (body: unknown) =>
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (request.url === '/realms/test/.well-known/openid-configuration') {
        issuer.discoveryRequests++;
        send({ issuer: issuer.url, jwks_uri: `${issuer.origin}/realms/test/certs` });
      } else if (request.url === '/realms/test/certs') {
        issuer.jwksRequests++;
        send({ keys: [...issuer.#published].map((kid) => issuer.#keys.get(kid)?.publicJwk) });
      } else response.writeHead(404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return issuer;
  }

  get origin(): string {
    return `${this.#scheme}://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** The issuer_url: what the tokens' `iss` names. */
  get url(): string {
    return `${this.origin}/realms/test`;
  }

  /**
   * Makes a key pair, named `kid` here; `publish` puts its public key in the JWKS, and `named: false`
   * leaves the kid out of the JWK (and of the tokens it signs).
   */
  async addKey(kid: string, { alg = 'ES256', publish = true, named = true } = {}): Promise<JWK> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), ...(named ? { kid, alg } : {}), use: 'sig' };
    this.#keys.set(kid, { alg, named, privateKey, publicJwk });
    if (publish) this.#published.add(kid);
    return publicJwk;
  }

  publish(kid: string): void {
    this.#published.add(kid);
  }

  /** Stops publishing a key (it can still sign: a token from a retired key). */
  retire(kid: string): void {
    this.#published.delete(kid);
  }

  /** A token signed with key `kid`: by default issued by this issuer, for `edge-relay`, valid for 5 minutes. */
  async sign(kid: string, claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
    const key = this.#keys.get(kid);
    if (!key) throw new Error(`no key ${kid}`);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: this.url,
      aud: 'edge-relay',
      sub: 'collector-1',
      iat: now,
      exp: now + 300,
      ...claims,
    })
      .setProtectedHeader({ alg: key.alg, ...(key.named ? { kid } : {}), typ: 'JWT', ...header })
      .sign(key.privateKey);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

/**
 * For a test file of ReceiverAuths: one issuer holding key `k1` for all its tests (`issuer`, set before the
 * first), and `started`, where a test puts the ReceiverAuths it makes, stopped after each test.
 */
export function issuerForFile(): { issuer: OidcIssuer; started: { stop(): void }[] } {
  const file = { issuer: undefined as unknown as OidcIssuer, started: [] as { stop(): void }[] };
  beforeAll(async () => {
    file.issuer = await OidcIssuer.start();
    await file.issuer.addKey('k1');
  });
  afterAll(() => file.issuer.close());
  afterEach(() => {
    for (const auth of file.started.splice(0)) auth.stop();
  });
  return file;
}
