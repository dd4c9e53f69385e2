import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { randomTraceId } from '../../test/support/ids.ts';
import type { SpanRecord } from '../model/span.ts';
import type { SharedDecision, TraceHolder } from '../sample/trace-holder.ts';
import {
  allocateSharedMetrics,
  SharedMetricsReader,
  SharedMetricsWriter,
} from '../telemetry/shared-metrics.ts';
import { ClusterStage } from './cluster-stage.ts';
import type { PeerForwarder } from './peer-forwarder.ts';
import { Rendezvous } from './rendezvous.ts';

const SELF = 'http://10.0.0.1:4318';
const OTHER = 'http://10.0.0.2:4318';
const rec = (traceId: string): SpanRecord => ({ span: { traceId } }) as unknown as SpanRecord;

/** Trace ids that the two-member ring gives to `owner`. */
function traceOwnedBy(owner: string): string {
  const ring = new Rendezvous([SELF, OTHER]);
  for (;;) {
    const id = randomTraceId();
    if (ring.ownerOf(id) === owner) return id;
  }
}

function setup(held: Set<string> = new Set()) {
  const consumed: SpanRecord[] = [];
  const sent: { url: string; traceId: string; hops: number }[] = [];
  const decisionsSent: { url: string; decisions: readonly SharedDecision[] }[] = [];
  const undecided = new Map<string, SpanRecord[]>();
  const decided: SharedDecision[] = [];
  const holder: TraceHolder & { consume(r: readonly SpanRecord[]): void; drain(): Promise<void> } = {
    consume: (records) => consumed.push(...records),
    drain: async () => {},
    holds: (id) => held.has(id),
    takeUndecided: (moves) => {
      const out = [...undecided].filter(([id]) => moves(id));
      for (const [id] of out) undecided.delete(id);
      return out.map(([, spans]) => spans);
    },
    decisionsFor: (moves) => decided.filter((d) => moves(d.traceId)),
    adopt: (decisions) => decisions.map((d) => d.traceId).filter((id) => held.has(id)),
  };
  const forwarder = {
    bind: () => {},
    add: (url: string, record: SpanRecord, hops: number) =>
      sent.push({ url, traceId: record.span.traceId, hops }),
    flushAll: () => {},
    drain: async () => {},
    sendDecisions: async (url: string, decisions: readonly SharedDecision[]) => {
      decisionsSent.push({ url, decisions });
    },
  } as unknown as PeerForwarder;
  const buffer = allocateSharedMetrics(1);
  const stage = new ClusterStage(
    SELF,
    holder,
    forwarder,
    new SharedMetricsWriter(buffer, 0),
    pino({ level: 'silent' }),
  );
  return {
    stage,
    consumed,
    sent,
    decisionsSent,
    undecided,
    decided,
    metrics: new SharedMetricsReader(buffer),
  };
}

describe('ClusterStage', () => {
  it('keeps owned traces and forwards the others to their owner with one hop', () => {
    const { stage, consumed, sent } = setup();
    stage.setMembers([SELF, OTHER]);
    const mine = traceOwnedBy(SELF);
    const theirs = traceOwnedBy(OTHER);
    stage.consume([rec(mine), rec(theirs)]);
    expect(consumed.map((r) => r.span.traceId)).toEqual([mine]);
    expect(sent).toEqual([{ url: OTHER, traceId: theirs, hops: 1 }]);
  });

  it('keeps a trace it already holds, whoever owns it now', () => {
    const theirs = traceOwnedBy(OTHER);
    const { stage, consumed, sent } = setup(new Set([theirs]));
    stage.setMembers([SELF, OTHER]);
    stage.consume([rec(theirs)]);
    expect(consumed).toHaveLength(1);
    expect(sent).toEqual([]);
  });

  it('sends forwarded spans of a trace it does not own one more hop at most, and counts them', () => {
    const { stage, consumed, sent, metrics } = setup();
    stage.setMembers([SELF, OTHER]);
    const theirs = traceOwnedBy(OTHER);
    stage.consume([rec(theirs)], 1);
    expect(sent).toEqual([{ url: OTHER, traceId: theirs, hops: 2 }]);
    stage.consume([rec(theirs)], 2);
    expect(consumed).toHaveLength(1);
    expect(metrics.read('spansFromPeers')).toBe(2);
  });

  it('hands undecided traces and decisions that move to their new owner on a membership change', () => {
    const { stage, sent, decisionsSent, undecided, decided, metrics } = setup();
    const moving = traceOwnedBy(OTHER);
    const staying = traceOwnedBy(SELF);
    undecided.set(moving, [rec(moving), rec(moving)]);
    undecided.set(staying, [rec(staying)]);
    decided.push({ traceId: traceOwnedBy(OTHER), sampled: true }, { traceId: staying, sampled: false });
    stage.setMembers([SELF, OTHER]);
    expect(sent).toEqual([
      { url: OTHER, traceId: moving, hops: 1 },
      { url: OTHER, traceId: moving, hops: 1 },
    ]);
    expect(undecided.has(staying)).toBe(true);
    expect(decisionsSent).toEqual([{ url: OTHER, decisions: [decided[0]] }]);
    expect(metrics.read('tracesHandedOver')).toBe(1);
  });

  it('hands everything to the others when it drains (SIGTERM)', async () => {
    const { stage, sent, undecided } = setup();
    stage.setMembers([SELF, OTHER]);
    const mine = traceOwnedBy(SELF);
    undecided.set(mine, [rec(mine)]);
    await stage.drain(Date.now() + 1000);
    expect(sent).toEqual([{ url: OTHER, traceId: mine, hops: 1 }]);
  });

  it('counts conflicting decisions handed over for traces it already decided', () => {
    const decidedHere = traceOwnedBy(SELF);
    const { stage, metrics } = setup(new Set([decidedHere]));
    stage.adopt([{ traceId: decidedHere, sampled: true }]);
    expect(metrics.read('decisionConflicts')).toBe(1);
  });
});
