import EdgeGrid from 'akamai-edgegrid';

// Akamai {OPEN} EdgeGrid request signing, through Akamai's own Node library (akamai-edgegrid): the
// relay uses its .edgerc reader and its signing, and sends the signed request itself (the one retrying
// sender, src/lib/http-sender.ts), so the library's HTTP client (axios) is never used.

/**
 * The library logs the signing key and the signed headers at info when AKAMAI_LOG_LEVEL is set in the
 * environment (or when anything turned its logging on): never for the relay, whose logs must not carry a
 * credential. Called before each use, since the switch is the library's global.
 */
const silenceLibrary = (): void =>
  (EdgeGrid.prototype as unknown as { enableLogging(option: boolean): void }).enableLogging(false);

/** The four values of an .edgerc section. `host` is the API client's hostname, with or without https://. */
export interface EdgeGridCredentials {
  readonly host: string;
  readonly client_token: string;
  readonly client_secret: string;
  readonly access_token: string;
}

export const CREDENTIAL_KEYS = ['host', 'client_token', 'client_secret', 'access_token'] as const;

/** What the library keeps after reading credentials; empty when a section lacks one of them. */
interface LibraryConfig {
  host?: string;
  client_token?: string;
  client_secret?: string;
  access_token?: string;
}

/**
 * Reads a section of an .edgerc file as the library does: `AKAMAI_<SECTION>_HOST`, `…_CLIENT_TOKEN`,
 * `…_CLIENT_SECRET` and `…_ACCESS_TOKEN` (`AKAMAI_HOST` … for `default`) win over the file when all four
 * are set. Throws when the file or section cannot be read; returns the names missing from the section.
 */
export function readEdgeRc(
  path: string,
  section: string,
): { credentials: EdgeGridCredentials } | { missing: string[] } {
  silenceLibrary();
  const config = (new EdgeGrid({ path, section }).config ?? {}) as LibraryConfig;
  const missing = CREDENTIAL_KEYS.filter((key) => !config[key]);
  if (missing.length > 0) return { missing };
  return { credentials: config as EdgeGridCredentials };
}

/** A signed request: the absolute URL and the headers, Authorization among them. */
export interface SignedRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
}

interface LibraryRequest {
  url: string;
  headers: Record<string, string>;
}

/** Signs EdgeGrid requests with one API client's credentials. */
export class EdgeGridSigner {
  // One library instance per signer: each construction registers interceptors on the library's axios.
  readonly #client: EdgeGrid;
  readonly baseUrl: string;

  constructor(credentials: EdgeGridCredentials) {
    this.#client = new EdgeGrid(
      credentials.client_token,
      credentials.client_secret,
      credentials.access_token,
      credentials.host,
    );
    this.baseUrl = (this.#client.config as { host: string }).host;
  }

  /**
   * Signs one attempt: the signature covers a timestamp and a nonce, so each retry is signed anew
   * (Akamai refuses a replayed nonce and a stale timestamp). `path` may carry a query string.
   */
  sign(method: 'GET' | 'POST', path: string, body?: string): SignedRequest {
    silenceLibrary();
    const request = this.#client.auth({ path, method, headers: {}, ...(body === undefined ? {} : { body }) })
      .request as LibraryRequest;
    return { url: request.url, headers: { ...request.headers } };
  }
}
