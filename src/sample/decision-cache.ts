import { LRUCache } from 'lru-cache';
import type { SharedDecision } from './trace-holder.ts';

/** How a kept trace was kept, so that its late spans get the same annotations. */
export interface Keep {
  readonly policy: string | undefined;
  readonly threshold: bigint | undefined;
}

/** How a decision handed over by another replica keeps its trace. */
export const keepOf = (decision: SharedDecision): Keep => ({
  policy: decision.policy,
  threshold: decision.threshold === undefined ? undefined : BigInt(decision.threshold),
});

/**
 * Decisions remembered after a trace leaves the buffer (lru-cache, kept and dropped apart, as the
 * Collector's decision_cache): late spans follow the first decision, so a trace is never split by a
 * second one while its id is cached. A size of 0 disables that half.
 */
export class DecisionCache {
  readonly #kept: LRUCache<string, Keep> | undefined;
  readonly #dropped: LRUCache<string, true> | undefined;

  constructor(keptSize: number, droppedSize: number) {
    this.#kept = keptSize > 0 ? new LRUCache({ max: keptSize }) : undefined;
    this.#dropped = droppedSize > 0 ? new LRUCache({ max: droppedSize }) : undefined;
  }

  keep(traceId: string, keep: Keep): void {
    this.#kept?.set(traceId, keep);
  }

  drop(traceId: string): void {
    this.#dropped?.set(traceId, true);
  }

  /** Every remembered decision (cluster hand-over). */
  *entries(): Generator<[string, Keep | 'dropped']> {
    if (this.#kept) for (const [traceId, keep] of this.#kept.entries()) yield [traceId, keep];
    if (this.#dropped) for (const traceId of this.#dropped.keys()) yield [traceId, 'dropped'];
  }

  /** The cached decision: how it was kept, 'dropped', or undefined when unknown. */
  get(traceId: string): Keep | 'dropped' | undefined {
    return this.#kept?.get(traceId) ?? (this.#dropped?.get(traceId) ? 'dropped' : undefined);
  }

  /** The remembered decisions of traces for which `moves` is true, as they travel to their new owner. */
  shared(moves: (traceId: string) => boolean): SharedDecision[] {
    const decisions: SharedDecision[] = [];
    for (const [traceId, cached] of this.entries()) {
      if (!moves(traceId)) continue;
      if (cached === 'dropped') decisions.push({ traceId, sampled: false });
      else
        decisions.push({
          traceId,
          sampled: true,
          ...(cached.policy === undefined ? {} : { policy: cached.policy }),
          ...(cached.threshold === undefined ? {} : { threshold: cached.threshold.toString() }),
        });
    }
    return decisions;
  }
}
