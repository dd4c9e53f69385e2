import { describe, expect, it } from 'vitest';
import { manualClock, trace } from '../../test/support/span-fixture.ts';
import { resolveConfig } from '../service/load-config.ts';
import { PolicySet } from './policies.ts';
import type { TailSamplingConfig } from './schema.ts';

const setOf = (policies: unknown[], extra: Record<string, unknown> = {}) =>
  new PolicySet(
    resolveConfig({ tail_sampling: { policies, ...extra } }).tail_sampling as TailSamplingConfig,
    1,
    manualClock().now,
  );

const errors = { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } };
const half = { name: 'half', type: 'probabilistic', probabilistic: { sampling_percentage: 50 } };
const dropHealth = {
  name: 'drop-health',
  type: 'drop',
  drop: {
    drop_sub_policy: [
      {
        name: 'health',
        type: 'string_attribute',
        string_attribute: { key: 'http.route', values: ['/health'] },
      },
    ],
  },
};
const HIGH = '0000000000000000ffffffffffffffff';
const LOW = '00000000000000000000000000000001';

describe('PolicySet', () => {
  it('evaluates drop policies first, and a drop wins over any sample', () => {
    const set = setOf([errors, dropHealth]);
    const verdict = set.evaluate(trace({ attrs: { 'http.route': '/health' }, status: 2 }));
    expect(verdict).toEqual({ outcome: 'dropped', policy: 'drop-health', threshold: undefined });
  });
  it('keeps a trace when any policy samples it, naming the first', () => {
    const set = setOf([half, errors]);
    expect(set.evaluate(trace({ traceId: LOW, status: 2 }))).toMatchObject({
      outcome: 'sampled',
      policy: 'errors',
    });
    expect(set.evaluate(trace({ traceId: LOW })).outcome).toBe('not_sampled');
  });
  it('reports a threshold only when the trace was kept by probability alone', () => {
    const set = setOf([half, errors]);
    expect(set.evaluate(trace({ traceId: HIGH })).threshold).toBe(1n << 55n);
    expect(set.evaluate(trace({ traceId: HIGH, status: 2 })).threshold).toBeUndefined();
  });
  it('does not let an inverted match veto other policies (the Collector removed that precedence)', () => {
    const notHealth = {
      name: 'not-health',
      type: 'string_attribute',
      string_attribute: { key: 'http.route', values: ['/health'], invert_match: true },
    };
    const verdict = setOf([notHealth, errors]).evaluate(
      trace({ attrs: { 'http.route': '/health' }, status: 2 }),
    );
    expect(verdict).toMatchObject({ outcome: 'sampled', policy: 'errors' });
  });
  it('stops at the first sampling policy with sample_on_first_match', () => {
    const outcomes: number[] = [];
    setOf([errors, half], { sample_on_first_match: true }).evaluate(
      trace({ traceId: HIGH, status: 2 }),
      (i) => outcomes.push(i),
    );
    expect(outcomes).toEqual([0]);
  });
});
