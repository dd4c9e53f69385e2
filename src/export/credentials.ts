import type { Logger } from '../telemetry/logger.ts';

/**
 * The exporter's headers (the Lightstep access token among them), replaced live when a reload brings new
 * ones. A backend's 401/403 is said once per set of headers, by header name only (a value is a
 * credential); batches it refused wait on `changed()` and go again as soon as new headers arrive.
 */
export class ExportCredentials {
  readonly #log: Logger;
  readonly #endpoint: string;
  #headers: Record<string, string>;
  #changed = Promise.withResolvers<void>();
  #refusalLogged = false;
  #refused = false;

  constructor(headers: Record<string, string>, endpoint: string, log: Logger) {
    this.#headers = headers;
    this.#endpoint = endpoint;
    this.#log = log;
  }

  get headers(): Record<string, string> {
    return this.#headers;
  }

  /** New headers from a reload: batches waiting after a 401/403 are sent again at once. */
  set(headers: Record<string, string>): void {
    this.#headers = headers;
    this.#log.info({ header_names: Object.keys(headers) }, 'exporter headers updated');
    this.#refusalLogged = false;
    this.#changed.resolve();
    this.#changed = Promise.withResolvers<void>();
  }

  changed(): Promise<void> {
    return this.#changed.promise;
  }

  refused(detail: string): void {
    this.#refused = true;
    if (this.#refusalLogged) return;
    this.#refusalLogged = true;
    this.#log.error(
      { status: detail, refused_headers: Object.keys(this.#headers), endpoint: this.#endpoint },
      'the backend refused the export credentials; batches are kept and sent again when exporter.headers change',
    );
  }

  accepted(): void {
    if (!this.#refused) return;
    this.#refused = false;
    this.#log.info('the backend accepts the export credentials; kept batches are being delivered');
  }
}
