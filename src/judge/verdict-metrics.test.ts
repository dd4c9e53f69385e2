import fastify from 'fastify';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Verdict, VerdictSource } from './verdict.ts';
import { registerVerdictGauge, registerVersionsRoute } from './verdict-metrics.ts';

const verdict = (candidate: string, state: Verdict['state']): Verdict => ({
  workerId: '42817',
  candidate,
  baseline: '1.4.2',
  state,
  mode: 'side_by_side',
  reason: state,
  since: 0,
  evaluatedAt: 0,
  firstSeen: 0,
  looks: 1,
  maxLooks: 60,
  comparisons: [],
  requests: { baseline: 1, candidate: 1 },
});

function sourceOf(list: Verdict[]): VerdictSource {
  return { verdicts: () => list, onChange: () => () => {} };
}

describe('verdict gauge and route', () => {
  it('writes a state set per verdict, and forgets ended verdicts', async () => {
    const registry = new Registry();
    const list = [verdict('1.5.0', 'regressed')];
    registerVerdictGauge(registry, sourceOf(list));
    const text = await registry.metrics();
    expect(text).toContain(
      'edge_relay_version_verdict{worker_id="42817",candidate="1.5.0",baseline="1.4.2",state="regressed"} 1',
    );
    expect(text).toContain(
      'edge_relay_version_verdict{worker_id="42817",candidate="1.5.0",baseline="1.4.2",state="collecting"} 0',
    );
    list[0] = verdict('1.6.0', 'collecting');
    const after = await registry.metrics();
    expect(after).not.toContain('candidate="1.5.0"');
    expect(after).toContain('candidate="1.6.0",baseline="1.4.2",state="collecting"} 1');
  });

  it('serves the verdicts as JSON, and an empty list without a judge', async () => {
    const app = fastify();
    registerVersionsRoute(app, sourceOf([verdict('1.5.0', 'healthy')]));
    expect((await app.inject('/v1/versions')).json()).toEqual({ verdicts: [verdict('1.5.0', 'healthy')] });
    const none = fastify();
    registerVersionsRoute(none, undefined);
    expect((await none.inject('/v1/versions')).json()).toEqual({ verdicts: [] });
  });
});
