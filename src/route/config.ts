import { type ConfigOf, component } from '../lib/component.ts';
import { ConfigError } from '../lib/errors.ts';
import { retryOnFailureSchema } from '../lib/retry.ts';
import { duration, section } from '../lib/schema-keywords.ts';

const peerUrl = { type: 'string', pattern: '^https?://[^\\s/]+$' } as const;

/**
 * Scale-out across relay replicas: who the peers are (a static list or a headless Service's DNS name,
 * as the Collector's loadbalancing exporter resolvers) and how spans are forwarded to a trace's owner.
 * No peers and no dns: the relay runs alone and this stage is not in the pipeline.
 */
const clusterSchema = section({
  // This replica's own receiver base URL, as the others reach it (e.g. http://${env:POD_IP}:4318).
  self: { anyOf: [{ type: 'string', const: '' }, peerUrl], default: '' },
  // Static peer receiver base URLs; may include self.
  peers: { type: 'array', items: peerUrl, uniqueItems: true, default: [] },
  dns: section({
    // Headless Service name resolving to every replica's address; empty: no DNS resolver.
    hostname: { type: 'string', default: '' },
    // The receiver port on each resolved address.
    port: { type: 'integer', minimum: 1, maximum: 65535, default: 4318 },
    interval: duration('5s'),
    timeout: duration('1s'),
  }),
  // Between liveness probes of every candidate peer.
  probe_interval: duration('1s'),
  forward: section({
    // Spans per peer that trigger a forward request; a partial batch waits at most `timeout`.
    send_batch_size: { type: 'integer', minimum: 1, default: 512 },
    timeout: duration('200ms'),
    request_timeout: duration('5s'),
    // Forward requests in flight to one peer, per worker.
    max_in_flight: { type: 'integer', minimum: 1, maximum: 64, default: 4 },
    // Estimated bytes of spans waiting for or in forward requests, per worker; past it spans are dropped (counted).
    max_pending_bytes: { type: 'integer', minimum: 65536, default: 33554432 },
    // The Collector's keys; a peer is near, so it is retried sooner and given up on sooner than the backend.
    retry_on_failure: section({
      ...retryOnFailureSchema.properties,
      initial_interval: duration('100ms'),
      multiplier: { ...retryOnFailureSchema.properties.multiplier, default: 2 },
      max_interval: duration('2s'),
      max_elapsed_time: duration('30s'),
    }),
  }),
});
export type ClusterConfig = ConfigOf<typeof clusterSchema>;
export type ForwardConfig = ClusterConfig['forward'];

/**
 * `cluster.dns: <headless service name>` is shorthand for `cluster.dns.hostname` with the resolver's
 * defaults, as the issue and the Collector's users write it; expanded before validation.
 */
function expandDnsShorthand(section: unknown): unknown {
  const cluster = section as { dns?: unknown } | null;
  if (cluster && typeof cluster === 'object' && typeof cluster.dns === 'string') {
    return { ...cluster, dns: { hostname: cluster.dns } };
  }
  return section;
}

export const clusterComponent = component({
  key: 'cluster',
  schema: clusterSchema,
  expand: expandDnsShorthand,
  check: checkCluster,
});

/** True when this replica is one of several: a peer list or a DNS name is configured. */
export function clusterEnabled(config: ClusterConfig): boolean {
  return config.peers.length > 0 || config.dns.hostname !== '';
}

/** What JSON Schema cannot say: a cluster needs to know which member it is. */
function checkCluster(config: ClusterConfig): void {
  if (!clusterEnabled(config)) return;
  if (config.self === '') {
    throw new ConfigError(
      'cluster.self',
      "required when cluster.peers or cluster.dns.hostname is set: this replica's receiver base URL, e.g. http://10.0.0.5:4318 (in Kubernetes, the pod IP through env substitution)",
    );
  }
  if (config.dns.hostname === '' && !config.peers.includes(config.self)) {
    throw new ConfigError('cluster.self', `"${config.self}" is not one of cluster.peers`);
  }
}
