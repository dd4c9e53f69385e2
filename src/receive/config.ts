import { type ConfigOf, component } from '../lib/component.ts';
import { duration, endpoint, section } from '../lib/schema-keywords.ts';
import { serverTlsSchema } from '../lib/tls.ts';
import { checkServerTls } from './receiver-tls.ts';
import { checkWal, durabilitySchema, walSchema } from './wal/config.ts';

const receiverSchema = section({
  // `host:port` the ingest server listens on.
  endpoint: endpoint('0.0.0.0:4318'),
  auth: section({
    tokens: { type: 'array', items: { type: 'string', minLength: 16 }, default: [] },
  }),
  // CIDRs of proxies whose X-Forwarded-For is believed.
  trusted_proxies: { type: 'array', items: { type: 'string', format: 'cidr' }, default: [] },
  // The Collector's confighttp TLS keys: with a certificate the receiver speaks HTTPS, reloaded on change.
  tls: serverTlsSchema,
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
  check(receiver: ReceiverConfig) {
    checkServerTls(receiver.tls);
    checkWal(receiver.durability, receiver.wal);
  },
});

/**
 * The Collector's `memory_limiter`, applied to the whole process: above `limit - spike` bytes of RSS
 * the receiver refuses new data (429) until memory falls back. Percentages are of the container's
 * memory limit (cgroup, or EDGE_RELAY_MEMORY_LIMIT) and apply when the `_mib` key is 0. Memory is
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
  }),
});
export type MemoryLimiterConfig = ConfigOf<typeof memoryLimiterComponent.schema>;
