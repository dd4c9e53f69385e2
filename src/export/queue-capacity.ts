import { Gauge, type Registry } from 'prom-client';
import { memoryQueueCapacity } from './batch-store.ts';
import type { SendingQueueConfig } from './config.ts';

/**
 * The sending queue's capacity over all shards, beside its fill (the Collector's otelcol_exporter_queue_capacity):
 * batches when the queue is in memory, bytes of storage when it is on disk.
 */
export function registerQueueCapacity(registry: Registry, config: SendingQueueConfig, shards: number): void {
  const onDisk = config.storage !== '';
  new Gauge({
    name: onDisk ? 'edge_relay_sending_queue_capacity_bytes' : 'edge_relay_sending_queue_capacity_batches',
    help: onDisk
      ? 'Bytes of encoded batches the persistent sending queue may hold (exporter.sending_queue.storage_max_bytes)'
      : 'Batches the sending queues of all worker shards may hold, waiting or being sent',
    registers: [registry],
  }).set(onDisk ? config.storage_max_bytes : memoryQueueCapacity(config) * shards);
}
