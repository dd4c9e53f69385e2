import { sha256Hex } from '../lib/digest.ts';

/**
 * This replica's turn (0 first) to act on an EdgeWorker id among the cluster's members: members ranked
 * by a hash of (member, id), so every replica computes the same order from the same membership, and
 * different ids start at different replicas. Alone, a replica's turn is always 0.
 */
export function replicaTurn(self: string, members: readonly string[], workerId: string): number {
  if (members.length <= 1) return 0;
  const score = (member: string) => sha256Hex(`${member}\u0000${workerId}`);
  const ranked = [...new Set([...members, self])].sort((a, b) => (score(a) < score(b) ? -1 : 1));
  return ranked.indexOf(self);
}
