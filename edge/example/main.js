// @ts-check
/// <reference types="akamai-edgeworkers" />
/**
 * Example EdgeWorker traced with edge-relay: a shop front that tags requests with an A/B variant.
 * Every handler calls the tracer first; the tracer never throws and never delays the response.
 */
import { createTracer } from '../src/index.js';
import { settings } from './settings.js';

const tracer = createTracer({
  ...settings,
  // Trace ids from the Internet are not trusted: only callers the property marks with this header (it
  // sets it for the shop's own services and removes it from every other request) continue their trace.
  continueTraces: ['x-shop-internal'],
  // Span names need a low-cardinality route, never the raw path (which is also what the beacon reports).
  route: (request) => (request.path.startsWith('/product/') ? '/product/:id' : undefined),
  attributes: (request) => ({ 'shop.variant': request.getHeader('x-shop-variant')?.[0] ?? 'none' }),
});

/** @param {EW.IngressClientRequest} request */
export function onClientRequest(request) {
  tracer.onClientRequest(request);
  // The worker's own logic: the A/B variant travels to the origin as a header.
  request.setHeader('x-shop-variant', request.query.includes('beta=1') ? 'beta' : 'stable');
}

/** @param {EW.IngressOriginRequest} request */
export function onOriginRequest(request) {
  tracer.onOriginRequest(request);
}

/**
 * @param {EW.EgressOriginRequest} request
 * @param {EW.EgressOriginResponse} response
 */
export function onOriginResponse(request, response) {
  tracer.onOriginResponse(request, response);
}

/**
 * @param {EW.EgressClientRequest} request
 * @param {EW.EgressClientResponse} response
 */
export function onClientResponse(request, response) {
  tracer.onClientResponse(request, response);
}
