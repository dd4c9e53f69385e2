import { setTimeout as sleep } from 'node:timers/promises';
import { OtlpEncoder } from '../../export/otlp-encoder.ts';
import type { Handoff } from '../../handoff/handoff.ts';
import { shardOf } from '../../handoff/shard-of.ts';
import type { Beacon } from '../../model/beacon.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { decodeOtlpProto } from '../otlp/decode-otlp-proto.ts';
import { byShard } from '../otlp/traces-route.ts';
import { RecordKind, readSegment, segmentPath, type WalRecord } from './wal-format.ts';
import type { WriteAheadLog } from './write-ahead-log.ts';

/** How long replay waits for a shard's hand-off to drain below its bound before it looks again. */
const HANDOFF_WAIT_MS = 5;

interface Part {
  readonly shard: number;
  readonly spans: number;
  readonly beacon?: { text: string; value: Beacon };
  readonly body?: Uint8Array;
}

/** A record's parts for the shards there are now: as logged, unless the thread count changed. */
function partsOf(record: WalRecord, shards: number, encoder: OtlpEncoder): Part[] {
  if (record.kind === RecordKind.beacon) {
    // Logged only once validated; parsed again for what the hand-off sends beside the text (trace id, root).
    const text = record.data.toString('utf8');
    const value = JSON.parse(text) as Beacon;
    const shard = record.shards === shards ? record.shard : shardOf(value.traceId, shards);
    return [{ shard, spans: record.spans, beacon: { text, value } }];
  }
  // Its own copy: hand-off bodies are transferred to the worker.
  if (record.shards === shards)
    return [{ shard: record.shard, spans: record.spans, body: new Uint8Array(record.data) }];
  return byShard(decodeOtlpProto(record.data), shards).flatMap(({ records, spanBytes }, shard) =>
    records.length === 0
      ? []
      : [{ shard, spans: records.length, body: new Uint8Array(encoder.encode(records, spanBytes)) }],
  );
}

/**
 * Hands every request an earlier run logged, and did not see settled, to the workers again, as
 * recovered spans tagged with their segment (which stays on disk until they settle again). Paced by
 * the hand-off bound, so a large log does not flood the workers' mailboxes. Returns the spans replayed.
 */
export async function replayWal(
  wal: WriteAheadLog,
  directory: string,
  handoff: Handoff,
  shards: number,
  log: Logger,
): Promise<number> {
  const encoder = new OtlpEncoder();
  let spans = 0;
  let records = 0;
  let unreadableBytes = 0;
  for (const id of wal.recovered) {
    const contents = readSegment(segmentPath(directory, id));
    const entry = wal.replaying(id);
    unreadableBytes += contents.unreadableBytes;
    for (const record of contents.records) {
      records++;
      for (const part of partsOf(record, shards, encoder)) {
        while (!handoff.hasRoom(part.shard)) await sleep(HANDOFF_WAIT_MS);
        entry.expected += part.spans;
        spans += part.spans;
        if (part.beacon) handoff.push(part.shard, record, part.beacon.value, part.beacon.text, id, true);
        else {
          const item = { body: part.body as Uint8Array, hops: record.hops, spans: part.spans, segment: id };
          handoff.offerOtlp(part.shard, record, { ...item, recovered: true });
        }
      }
    }
    wal.replayed(id);
  }
  if (wal.recovered.length > 0) {
    // A torn tail is the commit a crash interrupted: none of its requests had been acknowledged.
    log.info(
      { segments: wal.recovered.length, records, spans, unreadable_bytes: unreadableBytes },
      `replayed the write-ahead log: ${spans} spans recovered`,
    );
  }
  return spans;
}
