import { type ConfigOf, component, REDACTED } from '../lib/component.ts';
import { duration, endpoint, section } from '../lib/schema-keywords.ts';
import { serverTlsSchema } from '../lib/tls.ts';
import { authSchema, checkAuth, expandTokens, redactAuth } from './auth/config.ts';
import { checkServerTls } from './receiver-tls.ts';
import { checkWal, durabilitySchema, walSchema } from './wal/config.ts';

const receiverSchema = section({
  // `host:port` the ingest server listens on.
  endpoint: endpoint('0.0.0.0:4318'),
  auth: authSchema,
  // CIDRs of proxies whose X-Forwarded-For is believed.
  trusted_proxies: { type: 'array', items: { type: 'string', format: 'cidr' }, default: [] },
  // The Collector's confighttp TLS keys: with a certificate the receiver speaks HTTPS, reloaded on change.
  tls: serverTlsSchema,
  // The Collector's confighttp server timeouts: a whole request, body included (0: no bound); its
  // headers (within read_timeout; 0: read_timeout); a keep-alive connection's wait for its next request.
  read_timeout: duration('30s'),
  read_header_timeout: duration('10s'),
  idle_timeout: duration('72s'),
  // Connections open at once; more are closed as they arrive. 0: no bound.
  max_connections: { type: 'integer', minimum: 0, default: 10000 },
  // Largest request body accepted, in bytes, after decompression.
  max_request_body_size: { type: 'integer', minimum: 1024, maximum: 67108864, default: 1048576 },
  // `wal`: acknowledge only what is in the write-ahead log on disk (receive/wal/).
  durability: durabilitySchema,
  wal: walSchema,
});
export type ReceiverConfig = ConfigOf<typeof receiverSchema>;
export const receiverComponent = component({
  key: 'receiver',
  schema: receiverSchema,
  expand: (raw: unknown) => {
    const receiver = raw as { auth?: unknown } | null;
    return receiver?.auth === undefined ? raw : { ...receiver, auth: expandTokens(receiver.auth) };
  },
  check(receiver: ReceiverConfig) {
    checkAuth(receiver.auth);
    checkServerTls(receiver.tls);
    checkWal(receiver.durability, receiver.wal);
  },
  redact: (config) => ({
    ...config,
    auth: redactAuth(config.auth),
    tls: { ...config.tls, key_pem: config.tls.key_pem && REDACTED },
  }),
});

/**
 * The Collector's `memory_limiter`, applied to the whole process: above `limit - spike` bytes of
 * memory in use (heap and array buffers of every thread, which fall when data is freed) the receiver
 * refuses new data (429) until it falls back, forcing garbage collections meanwhile (at most every
 * `min_gc_interval_when_*_limited`). Percentages are of the container's memory limit (cgroup, or
 * EDGE_RELAY_MEMORY_LIMIT) and apply when the `_mib` key is 0. Memory is
 * checked every `check_interval`; the ack path only reads the last result.
 */
export const memoryLimiterComponent = component({
  key: 'memory_limiter',
  schema: section({
    check_interval: duration('1s'),
    limit_mib: { type: 'integer', minimum: 0, default: 0 },
    spike_limit_mib: { type: 'integer', minimum: 0, default: 0 },
    limit_percentage: { type: 'integer', minimum: 1, maximum: 100, default: 80 },
    spike_limit_percentage: { type: 'integer', minimum: 0, maximum: 100, default: 20 },
    min_gc_interval_when_soft_limited: duration('10s'),
    min_gc_interval_when_hard_limited: duration('0s'),
  }),
});
export type MemoryLimiterConfig = ConfigOf<typeof memoryLimiterComponent.schema>;
