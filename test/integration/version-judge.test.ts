import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/judge/verdict.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';
import { decided, postAll, toSink } from './tail-sampling-traffic.ts';
import { BAD, GOOD, postRollout, traffic } from './version-traffic.ts';

// The version judge through the real relay: beacons of two versions of one EdgeWorker, the new one
// failing half its requests, a tail sampler that keeps a tenth. The judge must say regressed on
// /v1/versions and /metrics, audit it, and from then on every trace of the bad version reach the sink.

let relay: RelayProcess | undefined;
let sink: OtlpSink | undefined;
afterEach(async () => {
  await relay?.stop();
  await sink?.close();
  relay = undefined;
  sink = undefined;
});

async function verdicts(port: number): Promise<Verdict[]> {
  const reply = await fetch(`http://127.0.0.1:${port}/v1/versions`);
  return ((await reply.json()) as { verdicts: Verdict[] }).verdicts;
}

describe('version judge', () => {
  it('judges a bad candidate regressed and keeps every one of its traces as evidence', async () => {
    sink = await OtlpSink.start();
    const auditPath = join(mkdtempSync(join(tmpdir(), 'edge-relay-judge-')), 'audit.jsonl');
    relay = await RelayProcess.start({
      ...toSink(sink.url),
      audit: { path: auditPath },
      version_health: {
        judge: { evaluation_interval: '200ms', window: '1m', min_requests: 50, evidence: { enabled: true } },
      },
      tail_sampling: {
        decision_wait: '1s',
        decision_wait_after_root_received: '100ms',
        policies: [{ name: 'tenth', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } }],
      },
    });
    const running = relay;
    // Traffic goes on until the verdict, as it does in production: a look compares the versions over the
    // windows both had traffic in, and one burst may fall on either side of a look.
    const first = traffic(0, 200, [GOOD, BAD]);
    await postRollout(running, first);
    let posted = first.length;
    const verdict = await waitFor(async () => {
      const [v] = await verdicts(running.adminPort);
      if (v?.state === 'regressed') return v;
      if (posted < 4000) {
        const round = traffic(posted, 50, [GOOD, BAD]);
        await postAll(
          running,
          round.map((t) => t.text),
        );
        posted += round.length;
      }
      return false;
    }, 'a regressed verdict on /v1/versions');
    expect(verdict).toMatchObject({ workerId: '42817', candidate: BAD, baseline: GOOD });
    // Side by side, as both post together; a look that one shard's snapshot missed compares before/after.
    expect(['side_by_side', 'before_after']).toContain(verdict.mode);
    expect(verdict.comparisons[0]).toMatchObject({ metric: 'error_rate', regressed: true });
    expect(verdict.reason).toMatch(/^regressed: error rate/);
    const text = await (await fetch(`http://127.0.0.1:${running.adminPort}/metrics`)).text();
    expect(text).toContain(
      `edge_relay_version_verdict{worker_id="42817",candidate="${BAD}",baseline="${GOOD}",state="regressed"} 1`,
    );
    expect(text).toContain(
      `edge_relay_version_verdict{worker_id="42817",candidate="${BAD}",baseline="${GOOD}",state="healthy"} 0`,
    );
    await decided(running, posted);

    // From the verdict on, the shards keep every trace of the bad version (the list reached them before
    // these beacons, over the same ports); the good version stays sampled at a tenth.
    const later = traffic(10_000, 100, [GOOD, BAD]);
    await postAll(
      running,
      later.map((t) => t.text),
    );
    await decided(running, posted + later.length);
    const wanted = later.filter((t) => t.version === BAD).map((t) => t.traceId);
    await waitFor(() => {
      const kept = new Set(sink?.spans().map((s) => s.traceId));
      return wanted.every((id) => kept.has(id));
    }, 'every later trace of the bad version at the sink');
    const kept = new Set(sink.spans().map((s) => s.traceId));
    const good = later.filter((t) => t.version === GOOD && kept.has(t.traceId)).length;
    expect(good).toBeLessThanOrEqual(20);
    // The policy kept a tenth of them anyway; the others are the override's.
    expect(await running.metric('edge_relay_version_evidence_traces_total')).toBeGreaterThanOrEqual(80);

    expect(await running.stop()).toBe(0);
    const records = readFileSync(auditPath, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toContainEqual(
      expect.objectContaining({
        event: 'version.verdict',
        worker_id: '42817',
        candidate: BAD,
        state: 'regressed',
      }),
    );
  }, 60_000);
});
