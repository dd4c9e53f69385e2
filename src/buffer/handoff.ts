import type { SharedMetricsReader } from '../telemetry/shared-metrics.ts';
import type { ShardPool } from './shard-pool.ts';

/** Most beacons in one hand-off message; bounds the latency a single big flush adds. */
const MAX_ITEMS = 256;

interface ShardBuffer {
  text: string;
  items: number;
  bytes: number;
  /** Bytes ever posted to this shard; the shard counts what it has taken up in shared memory. */
  posted: number;
}

/**
 * Hands accepted beacons to their shard in batches: everything accepted during one turn of the event
 * loop goes out as one message per shard (setImmediate), so the per-message cost is paid once per turn,
 * not once per beacon. Bytes handed off and not yet taken up are bounded; past the bound the receiver
 * sheds load instead of letting worker mailboxes grow.
 */
export class Handoff {
  readonly #pool: ShardPool;
  readonly #metrics: SharedMetricsReader;
  readonly #maxPendingPerShard: number;
  readonly #shards: ShardBuffer[];
  #scheduled = false;

  constructor(pool: ShardPool, metrics: SharedMetricsReader, maxPendingBytes: number) {
    this.#pool = pool;
    this.#metrics = metrics;
    this.#maxPendingPerShard = maxPendingBytes / pool.size;
    this.#shards = Array.from({ length: pool.size }, () => ({ text: '', items: 0, bytes: 0, posted: 0 }));
  }

  /** Bytes handed to a shard (or waiting to be) that it has not yet taken up. */
  pendingBytes(shard: number): number {
    const buffer = this.#shards[shard] as ShardBuffer;
    return buffer.posted + buffer.bytes - this.#metrics.read('handoffBytesDone', undefined, shard);
  }

  /** Queues a validated beacon (its JSON text) for its shard; false when that shard is over its bound. */
  offer(shard: number, ip: string, beaconJson: string): boolean {
    if (this.pendingBytes(shard) > this.#maxPendingPerShard) return false;
    const buffer = this.#shards[shard] as ShardBuffer;
    const item = `{"ip":${JSON.stringify(ip)},"b":${beaconJson}}`;
    buffer.text = buffer.items === 0 ? item : `${buffer.text},${item}`;
    buffer.items++;
    buffer.bytes += item.length;
    if (buffer.items >= MAX_ITEMS) this.#send(shard);
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
    return true;
  }

  flush(): void {
    this.#scheduled = false;
    for (let shard = 0; shard < this.#shards.length; shard++) this.#send(shard);
  }

  #send(shard: number): void {
    const buffer = this.#shards[shard] as ShardBuffer;
    if (buffer.items === 0) return;
    this.#pool.post(shard, { type: 'beacons', text: `[${buffer.text}]`, bytes: buffer.bytes });
    buffer.posted += buffer.bytes;
    buffer.text = '';
    buffer.items = 0;
    buffer.bytes = 0;
  }
}
