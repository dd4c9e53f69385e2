import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beaconToSpans } from '../../src/enrich/beacon-to-spans.ts';
import { edgeResources } from '../../src/enrich/edge-resource.ts';
import { OtlpEncoder } from '../../src/export/otlp-encoder.ts';
import { Handoff } from '../../src/handoff/handoff.ts';
import type { HandoffItem, ToWorker } from '../../src/handoff/messages.ts';
import type { Beacon } from '../../src/model/beacon.ts';
import { clientIp } from '../../src/receive/client-ip.ts';
import { createReceiver } from '../../src/receive/receiver-server.ts';
import { resolveConfig } from '../../src/service/load-config.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { RelayMetrics } from '../../src/telemetry/metrics.ts';
import {
  allocateSharedMetrics,
  SharedMetricsReader,
  SharedMetricsWriter,
} from '../../src/telemetry/shared-metrics.ts';
import type { ShardPool } from '../../src/worker/shard-pool.ts';
import { settledAccounting } from '../support/accounting.ts';
import { docsBeacon, docsBeaconText } from '../support/docs-beacon.ts';
import { faultConfig } from '../support/fault-config.ts';
import { BEACON_CASES, type FuzzCase, mutate, type Random, seeded } from '../support/fuzz-cases.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const CASE_TIMEOUT_MS = 10_000;
const MIB = 1024 * 1024;

/**
 * The receiver in this process, with a stand-in for the worker shards that runs what a worker does
 * with each accepted beacon (convert, enrich, encode), so that a hostile beacon that passes validation
 * and would break a worker is caught too.
 */
function inProcessReceiver() {
  const config = resolveConfig({ workers: { threads: 2 } });
  const buffer = allocateSharedMetrics(2);
  const reader = new SharedMetricsReader(buffer);
  const writers = [0, 1].map((shard) => new SharedMetricsWriter(buffer, shard));
  const resourceOf = edgeResources(config.enrichment);
  const encoder = new OtlpEncoder();
  const workerFailures: string[] = [];
  const pool = {
    size: 2,
    post(shard: number, message: ToWorker) {
      if (message.type !== 'beacons') return;
      try {
        for (const item of JSON.parse(message.text) as HandoffItem[]) {
          encoder.encode(beaconToSpans(item.b as Beacon, resourceOf(item.b as Beacon, item.ip)));
        }
      } catch (err) {
        workerFailures.push(String(err));
      }
      writers[shard]?.add('handoffBytesDone', message.bytes);
    },
  } as unknown as ShardPool;
  const app = createReceiver(
    config.receiver,
    {
      handoff: new Handoff(pool, reader, config.workers.max_pending_bytes),
      shards: 2,
      metrics: new RelayMetrics(reader),
      admission: { shedding: false, retryAfter: 1, why: undefined },
      clientIp: clientIp([]),
      accepting: true,
    },
    createLogger('error'),
  );
  return { app, workerFailures };
}

type Receiver = ReturnType<typeof inProcessReceiver>;

/** Posts one case; returns a description of what went wrong, or undefined when the answer is fine. */
async function tryCase(receiver: Receiver, url: string, fuzz: FuzzCase, ok: (status: number) => boolean) {
  const answer = receiver.app.inject({ method: 'POST', url, headers: fuzz.headers, payload: fuzz.body });
  const timeout = new Promise<'hang'>((resolve) =>
    setTimeout(() => resolve('hang'), CASE_TIMEOUT_MS).unref(),
  );
  const response = await Promise.race([answer, timeout]);
  if (response === 'hang') return 'no answer (hang)';
  if (ok(response.statusCode)) return undefined;
  if (response.statusCode >= 400 && response.statusCode < 500) {
    const body = response.json() as { error?: unknown; message?: unknown };
    if (typeof body.error === 'string' && typeof body.message === 'string' && body.message !== '')
      return undefined;
    return `${response.statusCode} without a body naming the problem: ${response.body.slice(0, 200)}`;
  }
  return `HTTP ${response.statusCode}: ${response.body.slice(0, 200)}`;
}

async function runCases(
  receiver: Receiver,
  url: string,
  cases: readonly [number, (r: Random) => FuzzCase][],
  ok: (status: number) => boolean,
): Promise<{ total: number; failures: string[] }> {
  const random = seeded(SEED);
  const failures: string[] = [];
  let total = 0;
  for (const [count, make] of cases) {
    for (let i = 0; i < count; i++) {
      const fuzz = make(random);
      const problem = await tryCase(receiver, url, fuzz, ok);
      total++;
      if (problem) failures.push(`case ${total} (${fuzz.kind}, seed ${SEED}): ${problem}`);
    }
  }
  return { total, failures };
}

const accepted = (status: number) => status === 202 || (status >= 400 && status < 500 && status !== 404);

// Generous: these start relay processes on a shared 2-core machine.
describe('hostile input', { timeout: 180_000 }, () => {
  let receiver: Receiver;
  beforeAll(() => {
    receiver = inProcessReceiver();
  });
  afterAll(() => receiver.app.close());

  it('answers 10,000 random and mutated beacons with 202 or a 4xx naming the problem, and keeps serving', async () => {
    const rssBefore = process.memoryUsage().rss;
    const { total, failures } = await runCases(receiver, '/v1/beacons', BEACON_CASES, accepted);
    expect(total).toBeGreaterThanOrEqual(10_000);
    expect(failures.slice(0, 10)).toEqual([]);
    expect(receiver.workerFailures.slice(0, 10)).toEqual([]);
    // Loosely: garbage may not be collected yet, but 10,000 requests must not each leave a body behind.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(768 * MIB);
    const valid = await receiver.app.inject({
      method: 'POST',
      url: '/v1/beacons',
      headers: { 'content-type': 'application/json' },
      payload: docsBeaconText(),
    });
    expect(valid.statusCode).toBe(202);
  }, 300_000);

  it('answers 4,000 random and mutated OTLP bodies on /v1/traces with 2xx or 4xx', async (context) => {
    const probe = await receiver.app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: Buffer.alloc(0),
    });
    if (probe.statusCode === 404) {
      context.skip(
        'POST /v1/traces does not exist on this branch (404): the OTLP receiver is built in another issue',
      );
      return;
    }
    const encoder = new OtlpEncoder();
    const fixture = docsBeacon();
    const resource = edgeResources(resolveConfig({}).enrichment)(fixture, '203.0.113.7');
    const otlp = Buffer.from(encoder.encode(beaconToSpans(fixture, resource)));
    const PROTO = { 'content-type': 'application/x-protobuf' };
    const JSON_TYPE = { 'content-type': 'application/json' };
    const otlpJson = Buffer.from(
      JSON.stringify({
        resourceSpans: [
          { scopeSpans: [{ spans: [{ traceId: fixture.traceId, spanId: '00f067aa0ba902b7', name: 'x' }] }] },
        ],
      }),
    );
    const cases: [number, (r: Random) => FuzzCase][] = [
      [1500, (r) => ({ kind: 'mutated otlp protobuf', body: mutate(r, otlp), headers: PROTO })],
      [1000, (r) => ({ kind: 'mutated otlp json', body: mutate(r, otlpJson), headers: JSON_TYPE })],
      [
        1000,
        (r) => {
          const zipped = gzipSync(otlp);
          return {
            kind: 'truncated gzip otlp',
            body: zipped.subarray(0, Math.floor(r() * zipped.length)),
            headers: { ...PROTO, 'content-encoding': 'gzip' },
          };
        },
      ],
      [
        500,
        (r) => ({
          kind: 'deep otlp json',
          body: Buffer.from(`{"resourceSpans":${'['.repeat(1 + Math.floor(r() * 50_000))}`),
          headers: JSON_TYPE,
        }),
      ],
    ];
    const { total, failures } = await runCases(receiver, '/v1/traces', cases, (s) => s < 300 || accepted(s));
    expect(total).toBe(4000);
    expect(failures.slice(0, 10)).toEqual([]);
  }, 300_000);

  it('a real relay process takes a share of the same cases over HTTP and stays up, accounting for every span', async () => {
    const sink = await OtlpSink.start();
    const relay = await RelayProcess.start(faultConfig(sink.url));
    try {
      const random = seeded(SEED + 1);
      const statuses = new Map<number, number>();
      for (const [count, make] of BEACON_CASES) {
        for (let i = 0; i < Math.ceil(count / 50); i++) {
          const fuzz = make(random);
          const response = await relay.post('/v1/beacons', fuzz.body, fuzz.headers);
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        }
      }
      expect([...statuses.keys()].filter((status) => !accepted(status))).toEqual([]);
      expect(relay.child.exitCode).toBe(null);
      // The doc's example exactly as written there, the bytes the README's quick start posts.
      expect((await relay.post('/v1/beacons', docsBeaconText())).status).toBe(202);
      expect((await fetch(`http://127.0.0.1:${relay.adminPort}/healthz`)).status).toBe(200);
      const accounting = await settledAccounting(relay);
      expect(accounting.droppedTotal).toBe(0);
      expect(relay.logLines().filter((line) => (line.level as number) >= 50)).toEqual([]);
    } finally {
      expect(await relay.stop()).toBe(0);
      await sink.close();
    }
  }, 120_000);
});
