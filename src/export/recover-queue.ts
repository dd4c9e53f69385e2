import type { Logger } from '../telemetry/logger.ts';
import type { BatchStore, QueuedBatch } from './batch-store.ts';
import type { HeldSpans } from './held-spans.ts';

/**
 * Takes over what a previous run left in the persistent queue: every record's spans count as
 * recovered; those of records that cannot be read back are dropped (`storage_corrupt`), and the
 * batches to send again are returned, oldest first.
 */
export function recoverQueue(store: BatchStore, held: HeldSpans, log: Logger): readonly QueuedBatch[] {
  for (const record of store.corrupt) {
    held.recover(record.spans);
    held.corrupt(record.spans, `${record.file}: ${record.problem}`);
  }
  const spans = store.recovered.reduce((sum, batch) => sum + batch.spans, 0);
  if (store.recovered.length > 0) {
    log.info({ batches: store.recovered.length, spans }, 'replaying the persistent queue');
  }
  held.recover(spans);
  return store.recovered;
}
