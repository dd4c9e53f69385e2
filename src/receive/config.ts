import { type ConfigOf, component, REDACTED } from '../lib/component.ts';
import { ConfigError } from '../lib/errors.ts';
import { duration, endpoint, section } from '../lib/schema-keywords.ts';
import { serverTlsSchema } from '../lib/tls.ts';
import { checkServerTls } from './receiver-tls.ts';
import { checkWal, durabilitySchema, walSchema } from './wal/config.ts';

/**
 * One accepted bearer token. `id` names it in metrics, logs and the audit log (the value never appears
 * there); the token is accepted from `not_before` (inclusive) until `not_after` (exclusive), either open.
 */
const tokenSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'value'],
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
    value: { type: 'string', minLength: 16 },
    not_before: { type: 'string', format: 'date-time' },
    not_after: { type: 'string', format: 'date-time' },
  },
} as const;

const receiverSchema = section({
  // `host:port` the ingest server listens on.
  endpoint: endpoint('0.0.0.0:4318'),
  auth: section({
    // Plain strings are shorthand for `{ id: token-<index>, value }` (expanded before validation).
    tokens: { type: 'array', items: tokenSchema, default: [] },
    // How long before a token's not_after the relay starts warning that it expires.
    warn_before_expiry: duration('24h'),
  }),
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
export type AuthConfig = ReceiverConfig['auth'];
export type TokenConfig = AuthConfig['tokens'][number];

/** The id of a token given without one: its position in the list, which says nothing about its value. */
export const positionalTokenId = (index: number): string => `token-${index}`;

/**
 * `tokens: [secret, …]` (the form before tokens had ids) and entries without `id` get positional ids.
 * A hash of the value would be stable across reordering, but even a short hash prefix of a short secret
 * narrows a guess, and ids are printed everywhere.
 */
function expandTokens(raw: unknown): unknown {
  const receiver = raw as { auth?: { tokens?: unknown } } | null;
  const tokens = receiver?.auth?.tokens;
  if (!Array.isArray(tokens)) return raw;
  const expanded = tokens.map((token: unknown, index) => {
    if (typeof token === 'string') return { id: positionalTokenId(index), value: token };
    if (token !== null && typeof token === 'object' && !('id' in token)) {
      return { id: positionalTokenId(index), ...token };
    }
    return token;
  });
  return { ...receiver, auth: { ...receiver?.auth, tokens: expanded } };
}

/** What the schema cannot say about tokens: ids and values are unique, and a window is not empty. */
function checkTokens(config: ReceiverConfig): void {
  const ids = new Map<string, number>();
  const values = new Map<string, number>();
  for (const [index, token] of config.auth.tokens.entries()) {
    const key = `receiver.auth.tokens[${index}]`;
    const sameId = ids.get(token.id);
    if (sameId !== undefined)
      throw new ConfigError(`${key}.id`, `"${token.id}" is also tokens[${sameId}]'s id`);
    const sameValue = values.get(token.value);
    if (sameValue !== undefined) {
      throw new ConfigError(`${key}.value`, `the same token as tokens[${sameValue}]; list each token once`);
    }
    ids.set(token.id, index);
    values.set(token.value, index);
    if (token.not_before && token.not_after && Date.parse(token.not_before) >= Date.parse(token.not_after)) {
      throw new ConfigError(`${key}.not_after`, 'must be later than not_before');
    }
  }
}

export const receiverComponent = component({
  key: 'receiver',
  schema: receiverSchema,
  expand: expandTokens,
  check(receiver: ReceiverConfig) {
    checkTokens(receiver);
    checkServerTls(receiver.tls);
    checkWal(receiver.durability, receiver.wal);
  },
  redact: (config) => ({
    ...config,
    auth: { ...config.auth, tokens: config.auth.tokens.map((token) => ({ ...token, value: REDACTED })) },
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
