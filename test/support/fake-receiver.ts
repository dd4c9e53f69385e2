import type { Handoff } from '../../src/handoff/handoff.ts';
import type { OtlpItem, Sender } from '../../src/handoff/messages.ts';
import type { IngestContext } from '../../src/receive/ingest-context.ts';
import { createReceiver } from '../../src/receive/receiver-server.ts';
import { resolveConfig } from '../../src/service/load-config.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import {
  allocateReceiverMetrics,
  ReceiverMetricsReader,
  ReceiverMetricsWriter,
} from '../../src/telemetry/receiver-metrics.ts';

/**
 * An in-process receiver over `shards` shards whose hand-off records the OTLP parts it is offered and
 * has room only where `room` says.
 */
export function fakeReceiver(shards: number, room: (shard: number) => boolean = () => true) {
  const offered: { shard: number; item: OtlpItem }[] = [];
  const handoff = {
    hasRoom: room,
    full: () => !Array.from({ length: shards }, (_, shard) => room(shard)).some(Boolean),
    offerOtlp: (shard: number, from: Sender, part: Omit<OtlpItem, 'ip'>) =>
      offered.push({ shard, item: { ip: from.ip, ...part } }),
  } as unknown as Handoff;
  const counters = allocateReceiverMetrics(1);
  const ingest: IngestContext = {
    handoff,
    shards,
    metrics: new ReceiverMetricsWriter(counters, 0),
    clientIp: (peer) => peer,
    admission: { shedding: false, retryAfter: 1, why: undefined },
    accepting: true,
  };
  const config = { ...resolveConfig({}).receiver, endpoint: '127.0.0.1:0', max_request_body_size: 65536 };
  const app = createReceiver(config, ingest, createLogger('silent'));
  return { app, ingest, offered, counted: new ReceiverMetricsReader(counters) };
}
