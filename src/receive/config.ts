import { duration, endpoint } from '../lib/schema-keywords.ts';

/** The Collector's confighttp server keys where they mean the same, plus a connection cap. */
export interface ReceiverConfig {
  /** `host:port` the ingest server listens on. */
  endpoint: string;
  auth: { tokens: string[] };
  /** CIDRs of proxies whose X-Forwarded-For is believed. */
  trusted_proxies: string[];
  /** Largest request body accepted, in bytes, after decompression. */
  max_request_body_size: number;
  /** Milliseconds to receive a whole request, body included; 0: no bound. */
  read_timeout: number;
  /** Milliseconds to receive a request's headers (within read_timeout, which covers them too); 0: read_timeout. */
  read_header_timeout: number;
  /** Milliseconds a keep-alive connection may wait for its next request; 0: read_timeout. */
  idle_timeout: number;
  /** Connections open at once; more are closed as they arrive. 0: no bound. */
  max_connections: number;
}

export const receiverSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    endpoint: endpoint('0.0.0.0:4318'),
    auth: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        tokens: { type: 'array', items: { type: 'string', minLength: 16 }, default: [] },
      },
    },
    trusted_proxies: { type: 'array', items: { type: 'string', format: 'cidr' }, default: [] },
    max_request_body_size: { type: 'integer', minimum: 1024, maximum: 67108864, default: 1048576 },
    read_timeout: duration('30s'),
    read_header_timeout: duration('10s'),
    idle_timeout: duration('72s'),
    max_connections: { type: 'integer', minimum: 0, default: 10000 },
  },
} as const;

/**
 * The Collector's `memory_limiter`, applied to the whole process: above `limit - spike` bytes of
 * memory in use (heap and array buffers of every thread, which fall when data is freed) the receiver
 * refuses new data (429) until it falls back, forcing garbage collections meanwhile. Percentages are
 * of the container's memory limit (cgroup, or EDGE_RELAY_MEMORY_LIMIT) and apply when the `_mib`
 * key is 0.
 */
export interface MemoryLimiterConfig {
  /** Milliseconds between memory checks; the ack path only reads the last result. */
  check_interval: number;
  /** Milliseconds at least between forced collections while over the soft limit. */
  min_gc_interval_when_soft_limited: number;
  /** Milliseconds at least between forced collections while over the hard limit. */
  min_gc_interval_when_hard_limited: number;
  limit_mib: number;
  spike_limit_mib: number;
  limit_percentage: number;
  spike_limit_percentage: number;
}

export const memoryLimiterSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    check_interval: duration('1s'),
    min_gc_interval_when_soft_limited: duration('10s'),
    min_gc_interval_when_hard_limited: duration('0s'),
    limit_mib: { type: 'integer', minimum: 0, default: 0 },
    spike_limit_mib: { type: 'integer', minimum: 0, default: 0 },
    limit_percentage: { type: 'integer', minimum: 1, maximum: 100, default: 80 },
    spike_limit_percentage: { type: 'integer', minimum: 0, maximum: 100, default: 20 },
  },
} as const;
