import { describe, expect, it } from 'vitest';
import { spanRecord } from '../../test/support/span-fixture.ts';
import {
  child,
  ERROR_TRACE,
  errors,
  OK_TRACE,
  root,
  samplerHarness,
} from '../../test/support/tail-sampler-harness.ts';

describe('TailSampler', () => {
  it('waits decision_wait for a trace without root, then decides the whole trace', () => {
    const { sampler, exported, metrics, advance } = samplerHarness({ decision_wait: '10s' });
    sampler.consume([child(ERROR_TRACE)]);
    advance(5000);
    sampler.consume([child(ERROR_TRACE, 2), child(OK_TRACE)]);
    expect(metrics.read('bufferedTraces')).toBe(2);
    advance(4999);
    expect(exported).toHaveLength(0);
    advance(1);
    expect(exported.map((r) => r.span.traceId)).toEqual([ERROR_TRACE, ERROR_TRACE]);
    expect(metrics.read('bufferedTraces')).toBe(1);
    advance(5000);
    expect(metrics.read('spansSampledOut')).toBe(1);
    expect(metrics.read('bufferedTraces')).toBe(0);
    expect(metrics.read('tracesDecided', 'sampled')).toBe(1);
  });
  it.each([
    ['a span without parent', root],
    [
      'a span whose parent is remote (OTLP flags 0x300)',
      (id: string) => spanRecord({ traceId: id, flags: 0x301 }),
    ],
  ])('decides decision_wait_after_root_received after the root arrives: %s', (_what, rootOf) => {
    const { sampler, exported, metrics, advance } = samplerHarness({
      decision_wait: '30s',
      decision_wait_after_root_received: '2s',
    });
    sampler.consume([child(ERROR_TRACE, 2)]);
    advance(1000);
    sampler.consume([rootOf(ERROR_TRACE)]);
    advance(1999);
    expect(exported).toHaveLength(0);
    advance(1);
    expect(exported).toHaveLength(2);
    expect(metrics.read('tracesDecidedEarly', 'root')).toBe(1);
  });
  it('does not take a span whose parent is known to be local (flags 0x100) for a root', () => {
    const { sampler, exported, advance } = samplerHarness({
      decision_wait: '30s',
      decision_wait_after_root_received: '2s',
    });
    sampler.consume([child(ERROR_TRACE, 2), spanRecord({ traceId: ERROR_TRACE, flags: 0x101 })]);
    advance(2000);
    expect(exported).toHaveLength(0);
    advance(28000);
    expect(exported).toHaveLength(2);
  });
  it('decides a trace over maximum_trace_size_bytes or max_spans_per_trace at once', () => {
    const { sampler, exported, metrics } = samplerHarness({
      maximum_trace_size_bytes: 250,
      max_spans_per_trace: 3,
    });
    sampler.consume([child(ERROR_TRACE, 2), child(ERROR_TRACE)]);
    expect(exported).toHaveLength(0);
    sampler.consume([child(ERROR_TRACE)]);
    expect(exported).toHaveLength(3);
    sampler.consume([
      child(OK_TRACE, 0, 10),
      child(OK_TRACE, 0, 10),
      child(OK_TRACE, 0, 10),
      child(OK_TRACE, 0, 10),
    ]);
    expect(metrics.read('tracesDecidedEarly', 'size')).toBe(2);
  });
  it('under memory pressure decides old, large traces early and loses no span', () => {
    const { sampler, exported, metrics } = samplerHarness({ max_buffered_bytes: 1000 });
    const ids = Array.from(
      { length: 30 },
      (_, i) => `${i % 3 === 0 ? 'e' : '0'}${i.toString(16).padStart(31, '0')}`,
    );
    for (const id of ids) sampler.consume([child(id, id.startsWith('e') ? 2 : 0), child(id)]);
    expect(metrics.read('bufferedBytes')).toBeLessThanOrEqual(1000);
    expect(metrics.read('tracesDecidedEarly', 'memory')).toBe(25);
    expect(exported.length + metrics.read('spansSampledOut') + metrics.read('bufferedSpans')).toBe(60);
    expect(exported.every((r) => r.span.traceId.startsWith('e'))).toBe(true);
  });
  it('bounds traces by num_traces the same way', () => {
    const { sampler, metrics } = samplerHarness({ num_traces: 2 });
    sampler.consume([child(ERROR_TRACE), child(OK_TRACE), child('f0000000000000000000000000000003')]);
    expect(metrics.read('bufferedTraces')).toBe(2);
    expect(metrics.read('tracesDecidedEarly', 'memory')).toBe(1);
  });
  it('sends late spans the cached way and counts them', () => {
    const { sampler, exported, metrics, advance } = samplerHarness({ decision_wait: '1s' });
    sampler.consume([child(ERROR_TRACE, 2), child(OK_TRACE)]);
    advance(1000);
    sampler.consume([child(ERROR_TRACE), child(ERROR_TRACE), child(OK_TRACE, 2)]);
    expect(exported).toHaveLength(3);
    expect(metrics.read('lateSpans', 'sampled')).toBe(2);
    expect(metrics.read('lateSpans', 'not_sampled')).toBe(1);
    expect(metrics.read('decisionCacheHits', 'sampled')).toBe(1);
    expect(metrics.read('spansSampledOut')).toBe(2);
    expect(metrics.read('bufferedTraces')).toBe(0);
  });
  it('without a decision cache, a late span starts a new trace', () => {
    const { sampler, metrics, advance } = samplerHarness({
      decision_wait: '1s',
      decision_cache: { sampled_cache_size: 0, non_sampled_cache_size: 0 },
    });
    sampler.consume([child(OK_TRACE)]);
    advance(1000);
    sampler.consume([child(OK_TRACE)]);
    expect(metrics.read('bufferedTraces')).toBe(1);
  });
  it('on drain decides every buffered trace at once and drains the next stage', async () => {
    const { sampler, exported, metrics, drained } = samplerHarness({ decision_wait: '60s' });
    sampler.consume([child(ERROR_TRACE, 2), child(OK_TRACE)]);
    await sampler.drain(Date.now() + 1000);
    expect(exported).toHaveLength(1);
    expect(metrics.read('spansSampledOut')).toBe(1);
    expect(metrics.read('tracesDecidedEarly', 'shutdown')).toBe(2);
    expect(drained()).toBe(true);
  });
  it('keeps buffered traces across a reconfigure and decides them with the new policies', () => {
    const { sampler, exported, advance, setupOf } = samplerHarness({ decision_wait: '1s' });
    sampler.consume([child(OK_TRACE)]);
    sampler.reconfigure(setupOf({ policies: [{ name: 'all', type: 'always_sample' }] }));
    advance(1000);
    expect(exported).toHaveLength(1);
  });
  it('passes everything through without a tail_sampling block, and after one is removed', () => {
    const plain = samplerHarness(undefined);
    plain.sampler.consume([child(OK_TRACE)]);
    expect(plain.exported).toHaveLength(1);
    const { sampler, exported, metrics } = samplerHarness({});
    sampler.consume([child(ERROR_TRACE, 2)]);
    sampler.reconfigure(undefined);
    expect(exported).toHaveLength(1);
    sampler.consume([child(OK_TRACE)]);
    expect(exported).toHaveLength(2);
    expect(metrics.read('bufferedTraces')).toBe(0);
  });
  it('with span-ingest keeps a matching trace at once', () => {
    const { sampler, exported, metrics } = samplerHarness({ sampling_strategy: 'span-ingest' });
    sampler.consume([child(OK_TRACE)]);
    sampler.consume([child(OK_TRACE, 2)]);
    expect(exported).toHaveLength(2);
    expect(metrics.read('tracesDecidedEarly', 'span_ingest')).toBe(1);
  });
  it('marks probability-kept spans with th and adjusted count, and the keeping policy when asked', () => {
    const half = { name: 'half', type: 'probabilistic', probabilistic: { sampling_percentage: 50 } };
    const { sampler, exported, advance } = samplerHarness({
      decision_wait: '1s',
      record_policy: true,
      policies: [half],
    });
    const id = '000000000000000000ff000000000000';
    sampler.consume([spanRecord({ traceId: id, traceState: 'shop=x' })]);
    advance(1000);
    sampler.consume([spanRecord({ traceId: id })]);
    for (const { span } of exported) {
      expect(span.traceState.startsWith('ot=th:8')).toBe(true);
      const attrs = Object.fromEntries(span.attributes.map((a) => [a.key, a.value]));
      expect(attrs['sampling.adjusted_count']).toEqual({ type: 'double', value: 2 });
      expect(attrs['tailsampling.policy']).toEqual({ type: 'string', value: 'half' });
    }
    expect(exported[0]?.span.traceState).toBe('ot=th:8,shop=x');
    expect(exported).toHaveLength(2);
  });
});

describe('TailSampler evidence override', () => {
  const edge = (traceId: string, version: string) =>
    spanRecord({
      traceId,
      resource: { 'akamai.edgeworker.id': '42817', 'akamai.edgeworker.version': version },
    });
  const probes = {
    name: 'no-probes',
    type: 'drop',
    drop: {
      drop_sub_policy: [
        { name: 'probe', type: 'string_attribute', string_attribute: { key: 'probe', values: ['yes'] } },
      ],
    },
  };

  it('keeps every trace of a listed version that the policies would drop, and counts them', () => {
    const { sampler, exported, metrics, advance } = samplerHarness({ decision_wait: '1s' });
    sampler.evidence.set([{ workerId: '42817', version: '1.5.0' }]);
    const bad = 'b0000000000000000000000000000001';
    const good = 'b0000000000000000000000000000002';
    const failed = 'b0000000000000000000000000000003';
    sampler.consume([
      edge(bad, '1.5.0'),
      edge(good, '1.4.2'),
      { ...edge(failed, '1.5.0'), span: { ...edge(failed, '1.5.0').span, status: { code: 2, message: '' } } },
    ]);
    advance(1000);
    expect(exported.map((r) => r.span.traceId).sort()).toEqual([bad, failed]);
    // Only the trace that the policies would not have kept counts as evidence.
    expect(metrics.read('versionEvidenceTraces')).toBe(1);
    expect(metrics.read('tracesDecided', 'sampled')).toBe(2);
    sampler.evidence.set([]);
    sampler.consume([edge('b0000000000000000000000000000004', '1.5.0')]);
    advance(1000);
    expect(exported).toHaveLength(2);
  });

  it('leaves an explicit drop policy its say', () => {
    const { sampler, exported, advance } = samplerHarness({
      decision_wait: '1s',
      policies: [errors, probes],
    });
    sampler.evidence.set([{ workerId: '42817', version: '1.5.0' }]);
    const probe = edge('c0000000000000000000000000000001', '1.5.0');
    sampler.consume([
      {
        ...probe,
        span: { ...probe.span, attributes: [{ key: 'probe', value: { type: 'string', value: 'yes' } }] },
      },
    ]);
    advance(1000);
    expect(exported).toHaveLength(0);
  });
});
