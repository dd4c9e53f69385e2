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
  // Span names need a low-cardinality route, never the raw path.
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
