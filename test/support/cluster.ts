import { once } from 'node:events';
import { createServer } from 'node:net';
import { randomSpanId } from './ids.ts';
import type { RelayProcess } from './relay-process.ts';
import { waitFor } from './wait-for.ts';

/** Free loopback ports, known before the relays start so that every static peer list can name them all. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    ports.push((server.address() as { port: number }).port);
    server.close();
    await once(server, 'close');
  }
  return ports;
}

/** One span to send, as a one-span beacon or a one-span OTLP/JSON request. */
export interface TestSpan {
  traceId: string;
  spanId: string;
  parent: string;
}

/** A trace of `size` spans: a root and its children. */
export function testTrace(traceId: string, size: number): TestSpan[] {
  const root = randomSpanId();
  return Array.from({ length: size }, (_, i) => ({
    traceId,
    spanId: i === 0 ? root : randomSpanId(),
    parent: i === 0 ? '' : root,
  }));
}

const now = Date.now();

export function beaconBody(span: TestSpan): string {
  return JSON.stringify({
    v: 1,
    traceId: span.traceId,
    ts: now,
    worker: { id: '1', version: '1.0.0' },
    edge: { ip: '203.0.113.7', pop: 'FRA' },
    service: 'cluster-test',
    spans: [
      { id: span.spanId, ...(span.parent ? { parent: span.parent } : {}), name: 'edge', start: 0, dur: 1 },
    ],
  });
}

export function otlpBody(span: TestSpan): string {
  const start = BigInt(now) * 1_000_000n;
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cluster-origin' } }] },
        scopeSpans: [
          {
            scope: { name: 'cluster-test' },
            spans: [
              {
                traceId: span.traceId,
                spanId: span.spanId,
                ...(span.parent ? { parentSpanId: span.parent } : {}),
                name: 'origin',
                kind: 2,
                startTimeUnixNano: String(start),
                endTimeUnixNano: String(start + 1_000_000n),
              },
            ],
          },
        ],
      },
    ],
  });
}

/** Sends one span to a replica, half as beacons and half as OTLP; true when the replica acknowledged it. */
export async function sendSpan(relay: RelayProcess, span: TestSpan, otlp: boolean): Promise<boolean> {
  try {
    const response = otlp
      ? await relay.post('/v1/traces', otlpBody(span))
      : await relay.post('/v1/beacons', beaconBody(span), { 'x-edge-relay-trace-id': span.traceId });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** Waits until every relay sees exactly `count` members. */
export function membersSettled(relays: RelayProcess[], count: number): Promise<true> {
  return waitFor(async () => {
    const seen = await Promise.all(relays.map((relay) => relay.metric('edge_relay_cluster_members')));
    return seen.every((n) => n === count);
  }, `every relay to see ${count} members`);
}

/** A metric summed over relays. */
export async function sumMetric(
  relays: RelayProcess[],
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const values = await Promise.all(relays.map((relay) => relay.metric(name, labels)));
  return values.reduce((sum, value) => sum + value, 0);
}
