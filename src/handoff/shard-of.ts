/**
 * The worker shard that owns a trace. Trace ids are random in their low bits (W3C random flag), so the
 * last 8 hex digits spread traces evenly without hashing.
 */
export function shardOf(traceId: string, shards: number): number {
  return Number.parseInt(traceId.slice(24), 16) % shards;
}
