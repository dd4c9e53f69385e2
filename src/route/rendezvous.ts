// Rendezvous (highest random weight) hashing: each trace goes to the member with the highest score for
// (member, trace). Chosen over a ring because with the tens of replicas a region runs, scoring every
// member costs less than a ring lookup's bookkeeping, it needs no virtual nodes to balance, and when a
// member joins or leaves exactly the traces it wins or held move (1/n of them), nothing else.

/** FNV-1a over a member's URL: its seed, computed once per membership change. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** murmur3's finalizer: every input bit flips about half the output bits. */
function mix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The owner of each trace among a set of members. Trace ids are random, so two of their 32-bit words
 * are hashed with the member seed; the low word is left out because worker shards are chosen by it.
 */
export class Rendezvous {
  readonly members: readonly string[];
  readonly #seeds: Uint32Array;

  constructor(members: readonly string[]) {
    this.members = [...members].sort();
    this.#seeds = Uint32Array.from(this.members, fnv1a);
  }

  /** The member owning the trace; undefined when there are no members. */
  ownerOf(traceId: string): string | undefined {
    const high = Number.parseInt(traceId.slice(0, 8), 16);
    const middle = Number.parseInt(traceId.slice(16, 24), 16);
    let best = -1;
    let bestScore = -1;
    for (let i = 0; i < this.#seeds.length; i++) {
      const score = mix(mix(high ^ (this.#seeds[i] as number)) ^ middle);
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    return this.members[best];
  }
}
