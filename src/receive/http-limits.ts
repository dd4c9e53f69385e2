import type { ReceiverConfig } from './config.ts';

/** Node's HTTP server settings that bound how long, and how many, clients hold the receiver. */
export interface HttpLimits {
  requestTimeout: number;
  headersTimeout: number;
  keepAliveTimeout: number;
  maxConnections: number;
  connectionsCheckingInterval: number;
}

/**
 * Maps the Collector's confighttp timeouts onto Node's server, with their fallbacks: a zero header or
 * idle timeout is the read timeout, and zero everywhere is no bound. The read timeout covers the
 * headers too (as Go's ReadTimeout does), so the header deadline is the shorter of the two; Node
 * refuses one longer than the request's. Node enforces request and header
 * deadlines on a timer (every 30 s by default), so a 1 s read_timeout could let a stalled body hold
 * its memory for 31 s: the timer runs at a quarter of the shortest deadline, between 50 ms and 1 s.
 */
export function httpLimits(config: ReceiverConfig): HttpLimits {
  const requestTimeout = config.read_timeout;
  const headers = config.read_header_timeout || requestTimeout;
  const headersTimeout = requestTimeout > 0 ? Math.min(headers, requestTimeout) : headers;
  const deadlines = [requestTimeout, headersTimeout].filter((ms) => ms > 0);
  const shortest = deadlines.length > 0 ? Math.min(...deadlines) : 4000;
  return {
    requestTimeout,
    headersTimeout,
    keepAliveTimeout: config.idle_timeout || requestTimeout,
    maxConnections: config.max_connections || Number.POSITIVE_INFINITY,
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(shortest / 4))),
  };
}
