import type { Registry } from 'prom-client';
import { registerCollected } from '../../telemetry/collected-metric.ts';
import type { AuthResult, Credential, Usage } from './credentials.ts';

/** Every credential id shows these, zeros included, so that a rate can be taken from the first scrape. */
const ALWAYS: readonly AuthResult[] = ['accepted', 'expired', 'not_yet_valid'];
const UNMATCHED: readonly AuthResult[] = ['invalid', 'missing'];

export interface AuthCounts {
  /** By credential id: tokens, beacon keys, and `oidc`. */
  usage: ReadonlyMap<string, Usage>;
  /** Requests that carried no credential of ours. */
  unmatched: Partial<Record<AuthResult, number>>;
  /** The configured credentials, for their not_after. */
  windows: () => readonly Credential[];
}

const resultsOf = (
  counts: Partial<Record<AuthResult, number>>,
  always: readonly AuthResult[],
): AuthResult[] => [...new Set([...always, ...(Object.keys(counts) as AuthResult[])])];

/** edge_relay_auth_*: use per credential id (never per value), read when /metrics is scraped. */
export function registerAuthMetrics(registry: Registry, counts: AuthCounts): void {
  registerCollected(
    registry,
    {
      name: 'edge_relay_auth_requests_total',
      help: 'Requests checked against receiver.auth, by credential id (a token, a beacon key, or oidc) and result (token_id is empty when no credential of ours was named)',
      type: 'counter',
    },
    () => [
      ...[...counts.usage].flatMap(([id, usage]) =>
        resultsOf(usage.counts, ALWAYS).map((result) => ({
          labels: { token_id: id, result },
          value: usage.counts[result] ?? 0,
        })),
      ),
      ...resultsOf(counts.unmatched, UNMATCHED).map((result) => ({
        labels: { token_id: '', result },
        value: counts.unmatched[result] ?? 0,
      })),
    ],
  );
  registerCollected(
    registry,
    {
      name: 'edge_relay_auth_token_last_used_timestamp_seconds',
      help: 'When each receiver.auth credential was last accepted, in Unix seconds (0: not in this process)',
      type: 'gauge',
    },
    () =>
      [...counts.usage].map(([id, usage]) => ({ labels: { token_id: id }, value: usage.lastUsed / 1000 })),
  );
  registerCollected(
    registry,
    {
      name: 'edge_relay_auth_token_not_after_timestamp_seconds',
      help: 'When each configured receiver.auth token or beacon key with a not_after stops being accepted, in Unix seconds',
      type: 'gauge',
    },
    () =>
      counts
        .windows()
        .filter((credential) => Number.isFinite(credential.notAfter))
        .map((credential) => ({ labels: { token_id: credential.id }, value: credential.notAfter / 1000 })),
  );
}
