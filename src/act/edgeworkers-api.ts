import type { EdgeGridSigner } from '../lib/edgegrid.ts';
import type { HttpRequest, HttpSender } from '../lib/http-sender.ts';

// The three calls of Akamai's EdgeWorkers API (v1) a rollback needs, EdgeGrid-signed and sent through
// the retrying sender: which version is active on a network, the activations of a version, and a new
// activation. Shapes: techdocs.akamai.com/edgeworkers/reference (List activations, Activate a version).

export type Network = 'STAGING' | 'PRODUCTION';

/** An activation as the API lists it (the fields the relay reads). */
export interface Activation {
  readonly activationId: number;
  readonly edgeWorkerId: number;
  readonly version: string;
  readonly network: Network;
  /** PRESUBMIT, PENDING, IN_PROGRESS, COMPLETE, CANCELLING, CANCELLED, ABORTED, ERROR, EXPIRED, … */
  readonly status: string;
  readonly createdTime?: string;
}

/** Statuses of an activation that is under way: the version will be active once it completes. */
export const UNDER_WAY: ReadonlySet<string> = new Set(['PRESUBMIT', 'PENDING', 'IN_PROGRESS']);

export type ApiResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly detail: string };

const base = (id: string) => `/edgeworkers/v1/ids/${encodeURIComponent(id)}/activations`;

/** `C` is what a call is made for (the verdict), handed back with each request before it goes. */
export class EdgeWorkersApi<C> {
  readonly #signer: EdgeGridSigner;
  readonly #sender: HttpSender;
  /** So that the sender's retries, reported by request, can be put down to what the call was for. */
  readonly #sending: (request: HttpRequest, context: C) => void;

  constructor(
    signer: EdgeGridSigner,
    sender: HttpSender,
    sending: (request: HttpRequest, context: C) => void,
  ) {
    this.#signer = signer;
    this.#sender = sender;
    this.#sending = sending;
  }

  /** The version active on `network` (undefined when none is), by the API's own `activeOnNetwork` filter. */
  async activeVersion(context: C, id: string, network: Network): Promise<ApiResult<string | undefined>> {
    const listed = await this.#list(context, `${base(id)}?activeOnNetwork=true&network=${network}`);
    if (!listed.ok) return listed;
    return { ok: true, value: listed.value.find((a) => a.network === network)?.version };
  }

  /** Every activation of one version, on either network. */
  activationsOf(context: C, id: string, version: string): Promise<ApiResult<Activation[]>> {
    return this.#list(context, `${base(id)}?version=${encodeURIComponent(version)}`);
  }

  /** Activates `version` on `network` (the API answers 201 with the new activation, PRESUBMIT or PENDING). */
  async activate(
    context: C,
    id: string,
    version: string,
    network: Network,
    note: string,
  ): Promise<ApiResult<Activation>> {
    const answer = await this.#call(context, 'POST', base(id), JSON.stringify({ version, network, note }));
    return answer.ok ? parse(answer.value, (json) => json as Activation) : answer;
  }

  async #list(context: C, path: string): Promise<ApiResult<Activation[]>> {
    const answer = await this.#call(context, 'GET', path);
    return answer.ok
      ? parse(answer.value, (json) => (json as { activations?: Activation[] }).activations ?? [])
      : answer;
  }

  async #call(
    context: C,
    method: 'GET' | 'POST',
    path: string,
    body?: string,
  ): Promise<ApiResult<Uint8Array>> {
    // The first attempt uses this signature; each retry is signed anew (fresh timestamp and nonce).
    let signed: ReturnType<EdgeGridSigner['sign']> | undefined = this.#signer.sign(method, path, body);
    const request: HttpRequest = {
      method,
      url: signed.url,
      body: new TextEncoder().encode(body ?? ''),
      headers: () => {
        const headers = (signed ?? this.#signer.sign(method, path, body)).headers;
        signed = undefined;
        return headers;
      },
    };
    this.#sending(request, context);
    const delivery = await this.#sender.deliver(request);
    if (delivery.outcome === 'delivered') return { ok: true, value: delivery.answer };
    const detail =
      delivery.outcome === 'dropped' ? `${delivery.cause}: ${delivery.detail}` : delivery.outcome;
    return { ok: false, detail: `${method} ${path}: ${detail}` };
  }
}

function parse<T>(answer: Uint8Array, read: (json: unknown) => T): ApiResult<T> {
  try {
    return { ok: true, value: read(JSON.parse(new TextDecoder().decode(answer))) };
  } catch (err) {
    return { ok: false, detail: `the API's answer is not JSON: ${(err as Error).message}` };
  }
}
