import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { kv, type Span, type SpanRecord, str } from '../model/span.ts';
import {
  allocateSharedMetrics,
  SharedMetricsReader,
  SharedMetricsWriter,
} from '../telemetry/shared-metrics.ts';
import type { ForwardConfig } from './config.ts';
import { PeerForwarder } from './peer-forwarder.ts';

const config: ForwardConfig = {
  send_batch_size: 3,
  timeout: 5,
  request_timeout: 1000,
  max_in_flight: 2,
  max_pending_bytes: 1 << 20,
  retry_on_failure: {
    enabled: true,
    initial_interval: 5,
    randomization_factor: 0.5,
    multiplier: 2,
    max_interval: 20,
    max_elapsed_time: 200,
  },
};

function record(traceId: string, spanId: string): SpanRecord {
  const resource = {
    attributes: [kv('service.name', str('t'))],
    droppedAttributesCount: 0,
    schemaUrl: '',
    key: 'r',
  };
  const scope = {
    name: 's',
    version: '',
    attributes: [],
    droppedAttributesCount: 0,
    schemaUrl: '',
    key: 's',
  };
  const span: Span = {
    traceId,
    spanId,
    parentSpanId: '',
    traceState: '',
    flags: 1,
    name: 'x',
    kind: 1,
    startTimeUnixNano: 1n,
    endTimeUnixNano: 2n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0, message: '' },
  };
  return { span, resource, scope, size: 100 };
}

interface Received {
  headers: IncomingHttpHeaders;
  bytes: number;
}

let server: Server | undefined;
afterEach(async () => {
  server?.close();
  server = undefined;
});

/** A peer on 127.0.0.1 answering each request with the next status (then 200). */
async function peer(statuses: number[]): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({ headers: req.headers, bytes: Buffer.concat(chunks).length });
    res.writeHead(statuses.shift() ?? 200).end();
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

function forwarder(token?: string) {
  const buffer = allocateSharedMetrics(1);
  const metrics = new SharedMetricsReader(buffer);
  const log = pino({ level: 'silent' });
  return { metrics, forward: new PeerForwarder(config, new SharedMetricsWriter(buffer, 0), log, token) };
}

const trace = 'aa'.repeat(16);

describe('PeerForwarder', () => {
  it('sends full batches as OTLP protobuf with the hop count and the receiver token', async () => {
    const { url, received } = await peer([]);
    const { forward, metrics } = forwarder('secret-token');
    for (let i = 0; i < 3; i++) forward.add(url, record(trace, `0${i}`.repeat(8)), 1);
    await forward.drain(Date.now() + 2000);
    expect(received).toHaveLength(1);
    expect(received[0]?.headers).toMatchObject({
      'content-type': 'application/x-protobuf',
      'x-edge-relay-forwarded': '1',
      authorization: 'Bearer secret-token',
    });
    expect(metrics.read('spansForwarded')).toBe(3);
  });

  it('presents a rotated token from the next request on', async () => {
    const { url, received } = await peer([]);
    const { forward } = forwarder('old-token');
    forward.setToken('new-token');
    for (let i = 0; i < 3; i++) forward.add(url, record(trace, `0${i}`.repeat(8)), 1);
    await forward.drain(Date.now() + 2000);
    expect(received[0]?.headers.authorization).toBe('Bearer new-token');
  });

  it('retries 503 and network errors, then delivers', async () => {
    const { url, received } = await peer([503, 503]);
    const { forward, metrics } = forwarder();
    forward.add(url, record(trace, '01'.repeat(8)), 1);
    await forward.drain(Date.now() + 2000);
    expect(received).toHaveLength(3);
    expect(metrics.read('forwardRequests', 'retryable_error')).toBe(2);
    expect(metrics.read('spansForwarded')).toBe(1);
  });

  it('counts spans as dropped (peer_unreachable) once retries run out', async () => {
    const { forward, metrics } = forwarder();
    forward.add('http://127.0.0.1:1', record(trace, '01'.repeat(8)), 1);
    await forward.drain(Date.now() + 5000);
    expect(metrics.read('spansDropped', 'peer_unreachable')).toBe(1);
    expect(metrics.read('spansForwarded')).toBe(0);
  });

  it('counts a 400 as peer_rejected without retrying', async () => {
    const { url, received } = await peer([400]);
    const { forward, metrics } = forwarder();
    forward.add(url, record(trace, '01'.repeat(8)), 1);
    await forward.drain(Date.now() + 2000);
    expect(received).toHaveLength(1);
    expect(metrics.read('spansDropped', 'peer_rejected')).toBe(1);
  });

  it('routes a batch again when its peer is no longer a member', async () => {
    const { forward, metrics } = forwarder();
    const rerouted: SpanRecord[] = [];
    let member = true;
    forward.bind(
      () => member,
      (records) => rerouted.push(...records),
    );
    forward.add('http://127.0.0.1:1', record(trace, '01'.repeat(8)), 1);
    setTimeout(() => {
      member = false;
    }, 20);
    await forward.drain(Date.now() + 5000);
    expect(rerouted).toHaveLength(1);
    expect(metrics.read('spansDropped', 'peer_unreachable')).toBe(0);
  });

  it('drops past max_pending_bytes and says so', () => {
    const { forward, metrics } = forwarder();
    const big = { ...record(trace, '01'.repeat(8)), size: (1 << 20) + 1 };
    forward.add('http://127.0.0.1:1', big, 1);
    expect(metrics.read('spansDropped', 'peer_queue_full')).toBe(1);
  });
});
