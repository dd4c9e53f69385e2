import type { SpanRecord } from '../model/span.ts';
import type { SpanProcessor } from '../model/span-processor.ts';
import type { VersionHealthConfig } from './config.ts';
import { RedTable } from './red-table.ts';
import type { HealthSnapshot } from './snapshot.ts';

/** How often a shard tells the main thread what changed: what /metrics lags behind the spans by, at most. */
const SNAPSHOT_INTERVAL_MS = 1000;

/**
 * Each shard snapshots on its own timer, so a judge look closing more often than that would find one
 * shard's spans in a window and another's (of the same moment) in the next: with versions spread over
 * shards by trace id, a short burst of both could then never be compared side by side. Twice per look
 * puts every shard's spans into the window they arrived in, or the one after.
 */
function snapshotInterval(config: VersionHealthConfig): number {
  return Math.min(SNAPSHOT_INTERVAL_MS, config.judge.evaluation_interval / 2);
}

export interface VersionHealthOptions {
  /** Hands a snapshot to the main thread (one postMessage per tick, never per span). */
  post: (snapshot: HealthSnapshot) => void;
  /** Whether the tail sampler keeps every trace (no tail_sampling), so exemplars need no decision. */
  keepsAll: boolean;
  /** In a cluster: whether this replica owns the trace, so its decision will be seen here. */
  isLocal?: (traceId: string) => boolean;
  clock?: () => number;
}

/**
 * The version-health stage of a worker shard, after enrichment and before routing and sampling: every
 * span that arrived from a client is counted here, once, before anything can drop or forward it (a
 * beacon a tail-sampling shard holds as text, when its trace is decided).
 */
export class VersionHealthStage implements SpanProcessor {
  readonly #next: SpanProcessor;
  readonly #table: RedTable;
  readonly #post: (snapshot: HealthSnapshot) => void;
  readonly #clock: () => number;
  readonly #timer: NodeJS.Timeout;

  constructor(config: VersionHealthConfig, next: SpanProcessor, options: VersionHealthOptions) {
    this.#next = next;
    this.#table = new RedTable(config);
    this.#table.keepsAll = options.keepsAll;
    this.#table.isLocal = options.isLocal;
    this.#post = options.post;
    this.#clock = options.clock ?? Date.now;
    this.#timer = setInterval(() => this.flush(), snapshotInterval(config));
    this.#timer.unref();
  }

  consume(records: readonly SpanRecord[]): void {
    this.count(records);
    this.#next.consume(records);
  }

  /**
   * Counts spans that go on by another way: a tail-sampling shard holds beacons as text and reads them
   * only when their trace is decided, so their spans are counted then.
   */
  count(records: readonly SpanRecord[]): void {
    this.#table.record(records, this.#clock());
  }

  /** The tail sampler's decision hook (wired in worker/shard-worker.ts). */
  decided(traceId: string, kept: boolean): void {
    this.#table.decided(traceId, kept);
  }

  /** After a reload that adds or removes tail_sampling. */
  setKeepsAll(keepsAll: boolean): void {
    this.#table.keepsAll = keepsAll;
  }

  flush(): void {
    const snapshot = this.#table.snapshot(this.#clock());
    if (snapshot) this.#post(snapshot);
  }

  /** The next stages decide what they hold first, so the last exemplars are in the final snapshot. */
  async drain(deadline: number): Promise<void> {
    clearInterval(this.#timer);
    await this.#next.drain(deadline);
    this.flush();
  }
}
