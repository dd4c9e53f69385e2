// @ts-check
/// <reference types="akamai-edgeworkers" />
/**
 * edge-relay beacon client for Akamai EdgeWorkers: traces each client request across the event
 * handlers and posts one beacon (docs/beacon.md) per traced request from onClientResponse, unawaited.
 *
 * EdgeWorkers constraints that shape this file (docs/edge.md explains them):
 * - handlers share no memory, so the trace state travels in one PMUSER_ variable;
 * - what onOriginRequest (and, behind a cache hierarchy, onOriginResponse) writes to that variable may
 *   never reach onClientResponse, so every id is decided in onClientRequest;
 * - Date.now() does not advance inside a handler, so spans are measured between handlers;
 * - nothing here may throw into the worker's code or delay its response;
 * - the minified client must stay under 4 KB: hence the terse code.
 */
// biome-ignore lint/style/useNodejsImportProtocol: the EdgeWorkers built-in module, not Node's
import { crypto } from 'crypto';
import { httpRequest } from 'http-request';
import { logger } from 'log';

/** @typedef {string | number | boolean | (string | number | boolean)[]} AttributeValue */
/** @typedef {Record<string, AttributeValue>} Attributes */
/**
 * @typedef {EW.IngressClientRequest | EW.IngressOriginRequest | EW.EgressOriginRequest | EW.EgressClientRequest
 *   | EW.ResponseProviderRequest} EdgeRequest
 */

/** @typedef {'TRACE' | 'IP' | 'REQUEST_ID' | 'POP' | 'CONSTRUCTED' | 'RELAY_URL' | 'RELAY_TOKEN'} VariableName */

/**
 * @typedef {object} TracerOptions
 * @property {string} [url] Beacon endpoint: a path on this property (`/edge-relay/v1/beacons`) or an
 *   `https://host/path` URL (no port) on a hostname served through an Akamai property.
 *   PMUSER_EDGE_RELAY_URL, when the property sets it, takes precedence.
 * @property {{ id: string, version: string }} worker EdgeWorker id and version, baked in at build time.
 * @property {string} [service] `service.name` of the edge spans.
 * @property {Attributes} [resource] Extra resource attributes (e.g. `deployment.environment.name`).
 * @property {string} [token] Bearer token, when the relay sets `receiver.auth.tokens`;
 *   PMUSER_EDGE_RELAY_TOKEN, when set, takes precedence (and keeps the token out of the bundle).
 * @property {number} [timeout] Milliseconds the beacon sub-request may take (default 1000).
 * @property {(request: EW.EgressClientRequest) => string | undefined} [route] Low-cardinality route template
 *   (`/product/:id`): names the server span, sets `http.route`, and is reported as `url.path`.
 * @property {(request: EW.EgressClientRequest, response: EW.EgressClientResponse) => Attributes | undefined} [attributes]
 *   Extra attributes for the server span, read when the response is known.
 * @property {RegExp} [redact] Pattern (without the `g` flag) of the path segments reported as `REDACTED`
 *   when there is no route; default: emails, numbers of 4 digits or more, 20 word characters in a row.
 * @property {boolean | string[]} [continueTraces] Whose `traceparent` to continue: `true` anyone's, or
 *   those of requests to a listed hostname or with a listed header. Default: nobody's; every request
 *   starts a new trace.
 * @property {number} [sampleRate] Probability (0–1) of tracing a request, decided on the trace id's
 *   randomness as the relay decides (default 1).
 * @property {(request: EW.IngressClientRequest) => boolean | undefined} [shouldTrace] `false`: never
 *   trace this request; otherwise `sampleRate` decides.
 * @property {boolean} [honorSampled] For a continued trace, the caller's sampled flag decides whether to
 *   trace, instead of `sampleRate` and `shouldTrace`.
 * @property {boolean} [dropInvalidTracestate] Remove a `tracestate` that breaks the W3C rules from the
 *   forward request, when the client rewrites its `traceparent`.
 * @property {Partial<Record<VariableName, string>>} [variables] PMUSER_ variable names, if not the defaults
 *   of docs/edge.md (`PMUSER_EDGE_` and the key).
 */

/**
 * @typedef {object} Tracer
 * @property {(request: EW.IngressClientRequest) => void} onClientRequest
 * @property {(request: EW.IngressOriginRequest) => void} onOriginRequest
 * @property {(request: EW.EgressOriginRequest, response: EW.EgressOriginResponse) => void} onOriginResponse
 * @property {(request: EW.EgressClientRequest, response: EW.EgressClientResponse) => void} onClientResponse
 * @property {(request: EdgeRequest) => string | undefined} traceparent
 *   A `traceparent` for one sub-request of the worker's own: each call is a new client span.
 * @property {<T extends object>(request: EW.ResponseProviderRequest, headers?: T) => T} provided
 *   Headers for the response a responseProvider creates, marked so that the beacon reports it as
 *   constructed, with the provider's span.
 */

// W3C: version ff is invalid, version 00 is exactly 55 characters, later versions may add fields after a
// '-'; all-zero ids are invalid.
const TRACEPARENT =
  /^(?!ff|00.{54})[\da-f]{2}-(?!0{32})([\da-f]{32})-(?!0{16})([\da-f]{16})-([\da-f]{2})(-|$)/;
// W3C: a key of 1–256 characters; a value of 1–256 printable characters that does not end in a space.
const TRACESTATE_MEMBER = /^[a-z\d][-_*/@a-z\d]{0,255}=[ -+\--<>-~]{0,255}[!-+\--<>-~]$/;
// What identifies a person or a secret in a path: emails, long numbers, long tokens (and long slugs).
const REDACT = /@|%40|\d{4}|[\w-]{20}/;
// Carries a responseProvider's span from that handler, which cannot set variables, to onClientResponse.
const PROVIDED = 'x-edge-relay-provided';
const STATUS_CODE = 'http.response.status_code';
const METHOD = 'http.request.method';
const SERVER = 'server.address';
const TRACESTATE = 'tracestate';
const TRACEPARENT_HEADER = 'traceparent';
/** @param {any} s */
const b36 = (s) => parseInt(s, 36);

// The state variable's fields, '.'-separated; T0 is epoch ms and the other times offsets from it, in
// base-36 ms. onClientRequest writes them all, so a later handler's lost write leaves the others in place.
const TRACE = 0;
const ROOT = 1;
const PARENT = 2;
// The W3C flags of the forward request: sampled (= traced) and random-trace-id.
const FLAGS = 3;
const T0 = 4;
const ORIGIN = 5;
const T1 = 6;
const STATUS = 7;
const T2 = 8;
// Then an id and a start time per sub-request.
const SUBS = 9;

/**
 * `n` random bytes from the platform's CSPRNG in lowercase hex, never all zeros (W3C refuses those).
 * @param {number} n
 */
function randomHex(n) {
  let id;
  do
    id = /** @type {number[]} */ (/** @type {unknown} */ (crypto.getRandomValues(new Uint8Array(n)))).reduce(
      (s, b) => s + (b | 256).toString(16).slice(1),
      '',
    );
  while (!/[^0]/.test(id));
  return id;
}

/** @param {unknown} problem */
const warn = (problem) => logger.warn('edge-relay: %s', problem);

/**
 * Runs `f`; what it throws is logged, never thrown into the worker.
 * @template T
 * @param {() => T} f
 * @returns {T | undefined}
 */
function attempt(f) {
  try {
    return f();
  } catch (err) {
    warn(err);
  }
}

/**
 * Parses `traceparent` per W3C Trace Context: one header, lowercase hex, version ff refused, version 00
 * exactly 55 characters, later versions read by their first four fields, all-zero ids refused.
 * @param {string[] | null} values
 * @returns {{ traceId: string, parentId: string, flags: number } | undefined}
 */
function traceparentOf(values) {
  const m = values?.length === 1 && TRACEPARENT.exec(/** @type {string} */ (values[0]).trim());
  // @ts-expect-error the groups of a match are strings
  if (m) return { traceId: m[1], parentId: m[2], flags: parseInt(m[3], 16) };
}

/**
 * Joins and checks `tracestate` (at most 32 well-formed list members, at most 512 characters, the
 * beacon's limit); an invalid one is dropped, as the spec allows, rather than forwarded in part.
 * @param {string[] | null} values
 * @returns {string | undefined}
 */
function tracestateOf(values) {
  const members = `${values}`
    .trim()
    .split(/\s*,\s*/)
    .filter(Boolean);
  const joined = members.join();
  if (!members[32] && joined.length < 513 && members.every((s) => TRACESTATE_MEMBER.test(s))) return joined;
}

/**
 * What of `v` the beacon format takes: a string of at most 4096 characters, a finite number (JSON makes
 * NaN and the infinities null), a boolean.
 * @param {unknown} v
 * @returns {string | number | boolean | undefined}
 */
const scalar = (v) =>
  typeof v === 'string'
    ? v.slice(0, 4096)
    : v === !!v || Number.isFinite(v)
      ? /** @type {number} */ (v)
      : undefined;

/**
 * Copies the attributes the beacon format allows into `to` (at most 64 keys of 1–256 characters, arrays
 * cut to 64 scalars): the relay refuses a whole beacon for one bad attribute.
 * @param {Attributes} to
 * @param {any} from
 * @returns {number} how many attributes it dropped
 */
function copy(to, from) {
  let dropped = 0;
  for (const k in from) {
    const v = from[k];
    const value = Array.isArray(v) ? v.flatMap((x) => scalar(x) ?? []).slice(0, 64) : scalar(v);
    if (value === undefined || !k[0] || k[256] || !(k in to || Object.keys(to).length < 64)) dropped++;
    else to[k] = /** @type {AttributeValue} */ (value);
  }
  return dropped;
}

/**
 * A span of the beacon, failed per the OpenTelemetry HTTP conventions when its status code is `limit` or
 * more, or absent.
 * @param {string | undefined} id
 * @param {string | undefined} parent
 * @param {string} name
 * @param {string} kind
 * @param {number} start
 * @param {number} dur
 * @param {Attributes} [attrs]
 * @param {any} [code]
 * @param {number} [limit]
 * @returns {Record<string, any>}
 */
const span = (id, parent, name, kind, start, dur, attrs, code, limit) => {
  /** @type {Record<string, unknown>} */
  const s = { id, parent, name, kind, start, dur, attrs };
  if (attrs && !(code && code < /** @type {number} */ (limit))) {
    s.status = 'error';
    attrs['error.type'] = `${code || 'no_response'}`;
  }
  return s;
};

/**
 * @param {TracerOptions} options
 * @returns {Tracer}
 */
export function createTracer(options) {
  /** @param {VariableName} key */
  const name = (key) => options.variables?.[key] ?? `PMUSER_EDGE_${key}`;
  const STATE = name('TRACE');
  const redact = options.redact ?? REDACT;
  const p = options.sampleRate ?? 1;
  // Consistent probability sampling, as the relay samples: keep when the trace's randomness R (an
  // explicit ot=rv, else the trace id's last 56 bits) is at least T = (1 - p) * 2^56, here with 52
  // significant bits so that it is exact in a double; as 13 hex digits, T compares as a string.
  const threshold = Math.round((1 - Math.min(p, 1)) * 2 ** 52)
    .toString(16)
    .padStart(13, '0');
  // The root span whose beacon this instance has sent: sub-requests after it get no span of their own.
  /** @type {string | undefined} */
  let sent;

  /**
   * A handler on the trace state onClientRequest saved; without one (the variable starts empty), none.
   * @template {EdgeRequest} R
   * @template X
   * @param {(state: string[], request: R, x: X) => any} f
   * @returns {(request: R, x?: X) => any}
   */
  const withState = (f) => (request, x) =>
    attempt(() => {
      const state = request.getVariable(STATE)?.split('.');
      if (state?.[SUBS - 1] != null) return f(state, request, /** @type {X} */ (x));
    });

  /**
   * Saves the state, with `field` set to the time since the trace began.
   * @param {EdgeRequest} request
   * @param {string[]} state
   * @param {number} [field]
   */
  const save = (request, state, field = 0) => {
    if (field) state[field] = since(state);
    /** @type {EW.IngressClientRequest} */ (request).setVariable(STATE, state.join('.'));
  };

  /** @param {string[]} state */
  const since = (state) => (Date.now() - +(/** @type {string} */ (state[T0]))).toString(36);

  /** @param {string[]} state */
  const traced = (state) => +(/** @type {string} */ (state[FLAGS])) & 1;

  /**
   * @param {EdgeRequest} request
   * @param {VariableName} key
   * @param {number} [max]
   */
  const variable = (request, key, max = 1e9) => {
    const value = request.getVariable(name(key));
    return value && value.length <= max ? value : undefined;
  };

  /**
   * Builds the beacon and sends it, not awaited: EdgeWorkers completes the sub-request after the handler
   * returns.
   * @param {string[]} state
   * @param {EW.EgressClientRequest} request
   * @param {EW.EgressClientResponse} response
   */
  function send(state, request, response) {
    // Made in this request when it names this request's forward span, not a cached copy's.
    const fresh = `${response.getHeader(PROVIDED)}`.includes(`-${state[ORIGIN]}-`);
    // The mark is the tracer's business, not the client's.
    response.removeHeader(PROVIDED);
    if (!traced(state)) return;
    sent = state[ROOT];
    const ts = +(/** @type {string} */ (state[T0]));
    const end = Date.now() - ts;
    const method = request.method;
    const route = scalar(attempt(() => options.route?.(request)));
    const status = response.status;
    const forwarded = fresh || state[T1] || state[STATUS];
    /** @type {Attributes} */
    const attrs = {
      [METHOD]: method,
      'url.scheme': request.scheme,
      'url.path':
        `${route || request.path.replace(/[^/]+/g, (s) => (redact.test(s) ? 'REDACTED' : s))}`.slice(0, 4096),
      [SERVER]: request.host,
      [STATUS_CODE]: status,
      'akamai.cache.status':
        fresh || variable(request, 'CONSTRUCTED') ? 'constructed' : forwarded ? 'miss' : 'hit',
    };
    if (route) attrs['http.route'] = route;
    const dropped = copy(
      attrs,
      attempt(() => options.attributes?.(request, response)),
    );
    /** @type {Record<string, unknown>[]} */
    const spans = [
      {
        ...span(
          state[ROOT],
          state[PARENT] || undefined,
          (route ? `${method} ${route}` : method).slice(0, 256),
          'server',
          0,
          end,
          attrs,
          status,
          500,
        ),
        // The parent came in the caller's traceparent: the relay may decide once this span has arrived.
        parentRemote: !!state[PARENT],
        droppedAttrs: dropped,
      },
    ];
    for (let i = SUBS; i < state.length; i += 2)
      spans.push(span(state[i], state[ROOT], 'sub-request', 'client', b36(state[i + 1]), 0));
    if (forwarded) {
      // A responseProvider stands in for the origin: it is the forward span, its response the answer.
      // A provider's start is not known: it runs right after onClientRequest.
      const start = Math.min(b36(state[T1]), end) || 0;
      const code = fresh ? status : +(/** @type {string} */ (state[STATUS]));
      /** @type {Attributes} */
      const originAttrs = { [METHOD]: method, [SERVER]: request.host };
      if (code) originAttrs[STATUS_CODE] = code;
      // Without onOriginResponse (origin unreachable), the forward lasted until the client response.
      spans.push(
        span(
          state[ORIGIN],
          state[ROOT],
          fresh ? 'responseProvider' : `origin ${method}`,
          'client',
          start,
          Math.max(0, (b36(state[T2]) || end) - start),
          originAttrs,
          code,
          400,
        ),
      );
    }
    const ip = variable(request, 'IP', 45);
    const beacon = {
      v: 1,
      traceId: state[TRACE],
      flags: +(/** @type {string} */ (state[FLAGS])),
      ts,
      // The edge's own sampling decision (not the caller's flag): its probability, for re-weighting.
      th: options.honorSampled && state[PARENT] ? undefined : threshold,
      traceState: state[PARENT] ? tracestateOf(request.getHeader(TRACESTATE)) : undefined,
      worker: options.worker,
      edge: {
        // The relay refuses a whole beacon for a malformed edge.ip: send only what looks like an address.
        ip: /^[\d.]+$|:/.test(`${ip}`) ? ip : undefined,
        requestId: variable(request, 'REQUEST_ID', 128),
        pop: variable(request, 'POP', 64),
      },
      service: options.service,
      resource: options.resource,
      spans,
    };
    // Read as each beacon is sent, not once: sign.js's signedTracer sets a fresh token here per beacon.
    const token = variable(request, 'RELAY_TOKEN') ?? options.token;
    /** @type {Record<string, string>} */
    const headers = {
      'content-type': 'application/json',
      'x-edge-relay-trace-id': /** @type {string} */ (state[TRACE]),
    };
    if (token) headers.authorization = `Bearer ${token}`;
    httpRequest(/** @type {string} */ (variable(request, 'RELAY_URL') ?? options.url), {
      method: 'POST',
      headers,
      body: JSON.stringify(beacon),
      timeout: options.timeout ?? 1000,
    }).then((answer) => answer.ok || warn(`relay: ${answer.status}`), warn);
  }

  /** @type {Tracer['traceparent']} */
  const traceparent = withState((state, request) => {
    let id = state[ROOT];
    // A responseProvider cannot record spans: its sub-requests are children of its own span. Those after
    // the beacon are children of the server span; untraced ones need no span.
    if (!('setVariable' in request)) id = state[ORIGIN];
    else if (traced(state) && sent !== id) {
      id = randomHex(8);
      save(request, [...state, id, since(state)]);
    }
    return `00-${state[TRACE]}-${id}-${state[FLAGS]}`;
  });

  return {
    onClientRequest: (request) =>
      attempt(() => {
        const c = options.continueTraces;
        const incoming = /** @type {ReturnType<typeof traceparentOf>} */ (
          (c === true || (c || []).some((t) => t === request.host || request.getHeader(t))) &&
            traceparentOf(request.getHeader(TRACEPARENT_HEADER))
        );
        const traceId = incoming?.traceId ?? randomHex(16);
        const rv = /** @type {RegExpExecArray | undefined} */ (
          incoming && /\bot=[^,]*\brv:([\da-f]{14})/.exec(`${request.getHeader(TRACESTATE)}`)
        );
        const keep =
          options.honorSampled && incoming
            ? incoming.flags & 1
            : p > 0 &&
              attempt(() => options.shouldTrace?.(request)) !== false &&
              (rv?.[1] ?? traceId.slice(18)) >= threshold;
        // A trace id the client made is random in its last 56 bits: W3C level 2 says so with flag 2.
        save(request, [
          traceId,
          randomHex(8),
          incoming?.parentId ?? '',
          `0${+keep | ((incoming?.flags ?? 2) & 2)}`,
          `${Date.now()}`,
          randomHex(8),
          '',
          '',
          '',
        ]);
      }),

    onOriginRequest: withState((state, request) => {
      // An untraced continued trace goes on as the caller sent it.
      if (traced(state) || !state[PARENT]) {
        request.setHeader(TRACEPARENT_HEADER, `00-${state[TRACE]}-${state[ORIGIN]}-${state[FLAGS]}`);
        // A tracestate that came with an untrusted or invalid traceparent must not travel with the new trace.
        if (!state[PARENT] || (options.dropInvalidTracestate && !tracestateOf(request.getHeader(TRACESTATE))))
          request.removeHeader(TRACESTATE);
      }
      save(request, state, T1);
    }),

    onOriginResponse: withState((state, request, response) => {
      state[STATUS] = /** @type {any} */ (response.status);
      save(request, state, T2);
    }),

    onClientResponse: withState(send),

    traceparent,

    provided: (request, headers = /** @type {any} */ ({})) => {
      // The provider's own traceparent names the forward span, which the beacon then reports.
      const value = traceparent(request);
      if (value) /** @type {any} */ (headers)[PROVIDED] = value;
      return headers;
    },
  };
}
