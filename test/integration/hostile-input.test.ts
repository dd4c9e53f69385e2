import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Handoff, type ShardPort } from '../../src/handoff/handoff.ts';
import type { FromReceiver, HandoffItem } from '../../src/handoff/messages.ts';
import { allocatePostedCounts, PostedCounts } from '../../src/handoff/posted-counts.ts';
import { FACTS, Fact } from '../../src/model/beacon-facts.ts';
import { clientIp } from '../../src/receive/client-ip.ts';
import { createReceiver } from '../../src/receive/receiver-server.ts';
import { resolveConfig } from '../../src/service/load-config.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { allocateReceiverMetrics, ReceiverMetricsWriter } from '../../src/telemetry/receiver-metrics.ts';
import { settledAccounting } from '../support/accounting.ts';
import { docsBeaconText } from '../support/docs-beacon.ts';
import { faultConfig } from '../support/fault-config.ts';
import { BEACON_CASES, type FuzzCase, type Random, seeded } from '../support/fuzz-cases.ts';
import { regressions, SHORT_PASS, TARGETS } from '../support/fuzz-targets.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { readBeaconHandoff, readOtlpHandoff } from '../support/worker-oracle.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const CASE_TIMEOUT_MS = 10_000;
const MIB = 1024 * 1024;

/**
 * The receiver in this process, with a stand-in for the worker shards that runs what a worker does
 * with what it is handed (beacons: convert, enrich, encode; OTLP: decode), so that a hostile body that
 * passes the receiver and would break a worker is caught too.
 */
function inProcessReceiver() {
  const config = resolveConfig({ workers: { threads: 2 } });
  const taken = [0, 0];
  const workerFailures: string[] = [];
  const pool: ShardPort = {
    size: 2,
    post(shard: number, message: FromReceiver) {
      if (message.type !== 'beacons' && message.type !== 'otlp') return;
      try {
        if (message.type === 'beacons')
          (JSON.parse(message.text) as HandoffItem[]).forEach((item, i) => {
            readBeaconHandoff(item, message.facts[i * FACTS + Fact.SPANS] as number);
          });
        // What the receiver took, the worker must read back whole (issue 20, item 1).
        else for (const item of message.items) readOtlpHandoff(item.body, item.spans);
      } catch (err) {
        workerFailures.push(String(err));
      }
      taken[shard] = (taken[shard] as number) + message.bytes;
    },
  };
  const app = createReceiver(
    config.receiver,
    {
      handoff: new Handoff(
        pool,
        {
          posted: new PostedCounts(allocatePostedCounts(1, 2), 2, 0),
          taken: (shard) => taken[shard] as number,
        },
        config.workers.max_pending_bytes,
      ),
      shards: 2,
      metrics: new ReceiverMetricsWriter(allocateReceiverMetrics(1), 0),
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

  it.each(Object.keys(TARGETS))(
    `answers ${SHORT_PASS} structure-aware hostile bodies (%s) with 2xx or a 4xx naming the problem`,
    async (target) => {
      const make = TARGETS[target] as (typeof TARGETS)[string];
      const { total, failures } = await runCases(
        receiver,
        make(seeded(0)).route,
        [[SHORT_PASS, make]],
        (status) => status < 300 || accepted(status),
      );
      expect(total).toBe(SHORT_PASS);
      expect(failures.slice(0, 10)).toEqual([]);
      expect(receiver.workerFailures.slice(0, 10)).toEqual([]);
    },
  );

  it('answers every input that once failed as it should now', async () => {
    const cases = regressions();
    expect(cases.length).toBeGreaterThan(0);
    for (const fuzz of cases) {
      const response = await receiver.app.inject({
        method: 'POST',
        url: fuzz.route,
        headers: fuzz.headers,
        payload: fuzz.body,
      });
      expect({ file: fuzz.file, status: response.statusCode }).toEqual({
        file: fuzz.file,
        status: fuzz.status,
      });
    }
    expect(receiver.workerFailures.slice(0, 10)).toEqual([]);
  });

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
      // Structure-aware cases reach the worker threads too: no 5xx, and nothing a worker cannot read.
      for (const make of Object.values(TARGETS)) {
        for (let i = 0; i < SHORT_PASS / 10; i++) {
          const fuzz = make(random);
          const response = await relay.post(fuzz.route, fuzz.body, fuzz.headers);
          await response.arrayBuffer();
          expect(response.status).toBeLessThan(500);
        }
      }
      for (const fuzz of regressions()) {
        const response = await relay.post(fuzz.route, fuzz.body, fuzz.headers);
        await response.arrayBuffer();
        expect({ file: fuzz.file, status: response.status }).toEqual({
          file: fuzz.file,
          status: fuzz.status,
        });
      }
      expect(relay.child.exitCode).toBe(null);
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
