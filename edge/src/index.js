// @ts-check
/// <reference types="akamai-edgeworkers" />
/**
 * edge-relay beacon client for Akamai EdgeWorkers: traces each client request across the four event
 * handlers and posts one beacon (docs/beacon.md) per request from onClientResponse, unawaited.
 *
 * EdgeWorkers constraints that shape this file (docs/edge.md explains them):
 * - handlers share no memory, so the trace state travels in one PMUSER_ variable;
 * - Date.now() does not advance inside a handler, so spans are measured between handlers;
 * - nothing here may throw into the worker's code or delay its response.
 */
import { httpRequest } from 'http-request';

/** @typedef {string | number | boolean | (string | number | boolean)[]} AttributeValue */
/** @typedef {Record<string, AttributeValue>} Attributes */
/** @typedef {EW.IngressClientRequest | EW.IngressOriginRequest | EW.EgressOriginRequest | EW.EgressClientRequest} EdgeRequest */

/**
 * @typedef {object} TracerOptions
 * @property {string} url Beacon endpoint: a path on this property (`/edge-relay/v1/beacons`) or an
 *   `https://host/path` URL (no port) on a hostname served through an Akamai property.
 * @property {{ id: string, version: string }} worker EdgeWorker id and version, baked in at build time.
 * @property {string} [service] `service.name` of the edge spans.
 * @property {Attributes} [resource] Extra resource attributes (e.g. `deployment.environment.name`).
 * @property {string} [token] Bearer token, when the relay sets `receiver.auth.tokens`.
 * @property {number} [timeout] Milliseconds the beacon sub-request may take (default 1000).
 * @property {(request: EW.EgressClientRequest) => string | undefined} [route] Low-cardinality route template
 *   (`/product/:id`): names the server span and sets `http.route`.
 * @property {(request: EW.EgressClientRequest, response: EW.EgressClientResponse) => Attributes | undefined} [attributes]
 *   Extra attributes for the server span, read when the response is known.
 * @property {boolean} [honorSampled] Forward the caller's sampled flag instead of always 1.
 * @property {boolean} [continueTraces] Continue the caller's trace (default true); false starts a new
 *   trace for every request, for sites that do not trust trace ids from the Internet.
 * @property {Partial<Record<'state' | 'edgeIp' | 'requestId' | 'pop', string>>} [variables]
 *   PMUSER_ variable names, if not the defaults of docs/edge.md.
 */

/**
 * @typedef {object} Tracer
 * @property {(request: EW.IngressClientRequest) => void} onClientRequest
 * @property {(request: EW.IngressOriginRequest) => void} onOriginRequest
 * @property {(request: EW.EgressOriginRequest, response: EW.EgressOriginResponse) => void} onOriginResponse
 * @property {(request: EW.EgressClientRequest, response: EW.EgressClientResponse) => void} onClientResponse
 * @property {(request: EdgeRequest) => string | undefined} traceparent
 *   A `traceparent` for the worker's own sub-requests (child of the edge's server span).
 */

const ZERO_ID = '0000000000000000';
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const TRACESTATE_MEMBER = /^[a-z0-9][-_*/@a-z0-9]{0,255}=[ -+\--<>-~]{0,255}$/;

// The state variable's fields, '.'-separated; T0 is epoch and T1, T2 offsets from it, in base-36 ms.
const TRACE = 0;
const ROOT = 1;
const PARENT = 2;
const FLAGS = 3;
const T0 = 4;
const ORIGIN = 5;
const T1 = 6;
const STATUS = 7;
const T2 = 8;

const hex8 = () => ((Math.random() * 0x100000000) >>> 0).toString(16).padStart(8, '0');

/** A random, non-zero 64-bit id in lowercase hex. */
function spanId() {
  let id = hex8() + hex8();
  while (id === ZERO_ID) id = hex8() + hex8();
  return id;
}

/**
 * Parses `traceparent` per W3C Trace Context: one header, lowercase hex, version ff refused, version 00
 * exactly 55 characters, later versions read by their first four fields, all-zero ids refused.
 * @param {string[] | null} values
 * @returns {{ traceId: string, parentId: string, sampled: boolean } | undefined}
 */
export function parseTraceparent(values) {
  if (values?.length !== 1) return undefined;
  const m = TRACEPARENT.exec(/** @type {string} */ (values[0]).trim());
  if (!m || m[1] === 'ff' || (m[1] === '00' && m[5] !== undefined)) return undefined;
  const traceId = /** @type {string} */ (m[2]);
  const parentId = /** @type {string} */ (m[3]);
  if (traceId === ZERO_ID + ZERO_ID || parentId === ZERO_ID) return undefined;
  return { traceId, parentId, sampled: (Number.parseInt(/** @type {string} */ (m[4]), 16) & 1) === 1 };
}

/**
 * Joins and checks `tracestate` (at most 32 well-formed list members, at most 512 characters, the
 * beacon's limit); an invalid one is dropped, as the spec allows, rather than forwarded in part.
 * @param {string[] | null} values
 * @returns {string | undefined}
 */
export function parseTracestate(values) {
  if (!values) return undefined;
  const joined = values.join(',');
  if (joined.length > 512) return undefined;
  const members = joined
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!members.length || members.length > 32 || !members.every((s) => TRACESTATE_MEMBER.test(s)))
    return undefined;
  return members.join(',');
}

/**
 * Runs a hook of the worker's; one that throws costs its own value, not the beacon.
 * @template T
 * @param {() => T} hook
 * @returns {T | undefined}
 */
function guarded(hook) {
  try {
    return hook();
  } catch {
    return undefined;
  }
}

/**
 * @param {TracerOptions} options
 * @returns {Tracer}
 */
export function createTracer(options) {
  const vars = options.variables ?? {};
  const STATE = vars.state ?? 'PMUSER_EDGE_TRACE';
  const EDGE_IP = vars.edgeIp ?? 'PMUSER_EDGE_IP';
  const REQUEST_ID = vars.requestId ?? 'PMUSER_EDGE_REQUEST_ID';
  const POP = vars.pop ?? 'PMUSER_EDGE_POP';
  const headers = /** @type {Record<string, string>} */ ({ 'content-type': 'application/json' });
  if (options.token) headers.authorization = `Bearer ${options.token}`;

  /**
   * The trace state onClientRequest saved, if it could (the variable starts empty).
   * @param {EdgeRequest} request
   */
  const stateOf = (request) => {
    const state = request.getVariable(STATE)?.split('.');
    return state && state.length > T0 ? state : undefined;
  };

  /**
   * @param {EdgeRequest} request
   * @param {string[]} state
   */
  const save = (request, state) => request.setVariable(STATE, state.join('.'));

  /** @param {string[]} state */
  const flagsOf = (state) => (options.honorSampled ? state[FLAGS] : '01');

  /** @param {string[]} state */
  const since = (state) => (Date.now() - Number.parseInt(/** @type {string} */ (state[T0]), 36)).toString(36);

  /**
   * @param {EdgeRequest} request
   * @param {string} name
   * @param {number} max
   */
  const variable = (request, name, max) => {
    const value = request.getVariable(name);
    return value && value.length <= max ? value : undefined;
  };

  /**
   * @param {EW.EgressClientRequest} request
   * @param {EW.EgressClientResponse} response
   * @param {string[]} state
   */
  function beacon(request, response, state) {
    const at = (/** @type {number} */ field) => Number.parseInt(state[field] ?? '', 36);
    const ts = at(T0);
    const end = Date.now() - ts;
    const method = request.method;
    const route = guarded(() => options.route?.(request));
    const status = response.status;
    /** @type {Attributes} */
    const attrs = {
      'http.request.method': method,
      'url.scheme': request.scheme,
      'url.path': request.path.slice(0, 4096),
      'server.address': request.host,
      'http.response.status_code': status,
      'akamai.cache.status': state[ORIGIN] ? 'miss' : 'hit',
    };
    if (route) attrs['http.route'] = route;
    Object.assign(
      attrs,
      guarded(() => options.attributes?.(request, response)),
    );
    /** @type {Record<string, unknown>} */
    const root = {
      id: state[ROOT],
      name: (route ? `${method} ${route}` : method).slice(0, 256),
      kind: 'server',
      start: 0,
      dur: end,
      attrs,
    };
    if (state[PARENT]) {
      // The parent came in the caller's traceparent: the relay may decide once this span has arrived.
      root.parent = state[PARENT];
      root.parentRemote = true;
    }
    // OpenTelemetry HTTP conventions: a 5xx fails a server span; any 4xx or 5xx fails a client span.
    if (status >= 500) {
      root.status = 'error';
      attrs['error.type'] = String(status);
    }
    const spans = [root];
    if (state[ORIGIN]) {
      const start = Math.min(at(T1), end);
      /** @type {Attributes} */
      const originAttrs = { 'http.request.method': method, 'server.address': request.host };
      /** @type {Record<string, unknown>} */
      const origin = {
        id: state[ORIGIN],
        parent: state[ROOT],
        name: `origin ${method}`,
        kind: 'client',
        start,
        // Without onOriginResponse (origin unreachable), the forward lasted until the client response.
        dur: Math.max(0, (state[T2] ? at(T2) : end) - start),
        attrs: originAttrs,
      };
      const originStatus = Number(state[STATUS]);
      if (originStatus) originAttrs['http.response.status_code'] = originStatus;
      if (!(originStatus < 400)) {
        origin.status = 'error';
        originAttrs['error.type'] = state[STATUS] ?? 'no_response';
      }
      spans.push(origin);
    }
    /** @type {Record<string, unknown>} */
    const body = { v: 1, traceId: state[TRACE], flags: Number.parseInt(flagsOf(state) ?? '', 16), ts };
    const traceState = state[PARENT] ? parseTracestate(request.getHeader('tracestate')) : undefined;
    if (traceState) body.traceState = traceState;
    body.worker = options.worker;
    /** @type {Record<string, string>} */
    const edge = {};
    const ip = variable(request, EDGE_IP, 45);
    // The relay refuses a whole beacon for a malformed edge.ip: send only what looks like an address.
    if (ip && /^(\d{1,3}\.){3}\d{1,3}$|^[\da-f:.]*:[\da-f:.]*$/i.test(ip)) edge.ip = ip;
    const requestId = variable(request, REQUEST_ID, 128);
    if (requestId) edge.requestId = requestId;
    const pop = variable(request, POP, 64);
    if (pop) edge.pop = pop;
    body.edge = edge;
    if (options.service) body.service = options.service;
    if (options.resource) body.resource = options.resource;
    body.spans = spans;
    return body;
  }

  return {
    onClientRequest(request) {
      try {
        const incoming =
          options.continueTraces === false ? undefined : parseTraceparent(request.getHeader('traceparent'));
        const sampled = incoming ? incoming.sampled : true;
        save(request, [
          incoming ? incoming.traceId : spanId() + spanId(),
          spanId(),
          incoming ? incoming.parentId : '',
          sampled ? '01' : '00',
          Date.now().toString(36),
        ]);
      } catch {}
    },

    onOriginRequest(request) {
      try {
        const state = stateOf(request);
        if (!state) return;
        const origin = spanId();
        save(request, [...state.slice(0, ORIGIN), origin, since(state)]);
        request.setHeader('traceparent', `00-${state[TRACE]}-${origin}-${flagsOf(state)}`);
        // A tracestate that came with an invalid traceparent must not travel with the new trace.
        if (!state[PARENT]) request.removeHeader('tracestate');
      } catch {}
    },

    onOriginResponse(request, response) {
      try {
        const state = stateOf(request);
        if (!state?.[ORIGIN]) return;
        save(request, [...state.slice(0, STATUS), String(response.status), since(state)]);
      } catch {}
    },

    onClientResponse(request, response) {
      try {
        const state = stateOf(request);
        if (!state) return;
        const body = JSON.stringify(beacon(request, response, state));
        // Not awaited: EdgeWorkers completes the sub-request after the handler returns.
        httpRequest(options.url, {
          method: 'POST',
          headers: { ...headers, 'x-edge-relay-trace-id': /** @type {string} */ (state[TRACE]) },
          body,
          timeout: options.timeout ?? 1000,
        }).then(undefined, () => {});
      } catch {}
    },

    traceparent(request) {
      return guarded(() => {
        const state = stateOf(request);
        return state && `00-${state[TRACE]}-${state[ROOT]}-${flagsOf(state)}`;
      });
    },
  };
}
