import { describe, expect, it } from 'vitest';
import { spanRecord } from '../../test/support/span-fixture.ts';
import { ERROR_TRACE, OK_TRACE, samplerHarness } from '../../test/support/tail-sampler-harness.ts';
import type { SpanRecord } from '../model/span.ts';
import type { HeldBeacon } from './held-beacon.ts';

/** A held beacon whose text says what spans it reads into: `spans` spans of the trace, of that status. */
function held(traceId: string, spans: number, status: 0 | 2 = 0, root = false): HeldBeacon {
  const text = `[${JSON.stringify({ traceId, spans, status, root })}]`;
  return { traceId, text, start: 1, end: text.length - 1, spans, root };
}

/** The sampler reading held beacons with a reader that counts what it reads. */
function holding(tailSampling: Record<string, unknown>) {
  const harness = samplerHarness(tailSampling);
  const read: string[] = [];
  harness.sampler.readBeacon = ({ text, start, end }): SpanRecord[] => {
    const { traceId, spans, status, root } = JSON.parse(text.slice(start, end));
    read.push(traceId);
    return Array.from({ length: spans }, () =>
      spanRecord({ traceId, status, ...(root ? { parent: '' } : {}) }),
    );
  };
  return { ...harness, read };
}

describe('TailSampler holding beacons as their text', () => {
  it('reads them only when their trace is decided, and counts their bytes meanwhile', () => {
    const { sampler, exported, metrics, advance, read } = holding({ decision_wait: '10s' });
    expect(sampler.holdsBeacons).toBe(true);
    const beacons = [held(ERROR_TRACE, 2, 2), held(OK_TRACE, 3), held(ERROR_TRACE, 1)];
    sampler.hold(beacons);
    expect(read).toEqual([]);
    expect(metrics.read('bufferedTraces')).toBe(2);
    expect(metrics.read('bufferedSpans')).toBe(6);
    expect(metrics.read('bufferedBytes')).toBe(beacons.reduce((sum, b) => sum + b.end - b.start, 0));
    advance(10_000);
    expect(read.sort()).toEqual([OK_TRACE, ERROR_TRACE, ERROR_TRACE].sort());
    expect(exported.map((r) => r.span.traceId)).toEqual([ERROR_TRACE, ERROR_TRACE, ERROR_TRACE]);
    expect(metrics.read('spansSampledOut')).toBe(3);
    expect(metrics.read('bufferedBytes')).toBe(0);
  });

  it('shares a trace with spans that came as spans, and decides them together', () => {
    const { sampler, exported, advance } = holding({ decision_wait: '1s' });
    sampler.consume([spanRecord({ traceId: OK_TRACE })]);
    sampler.hold([held(OK_TRACE, 1, 2)]);
    advance(1000);
    expect(exported).toHaveLength(2);
  });

  it('reads a late beacon at once, and it follows the cached decision', () => {
    const { sampler, exported, metrics, advance, read } = holding({ decision_wait: '1s' });
    sampler.hold([held(ERROR_TRACE, 1, 2), held(OK_TRACE, 1)]);
    advance(1000);
    sampler.hold([held(ERROR_TRACE, 2), held(OK_TRACE, 2)]);
    expect(read).toHaveLength(4);
    expect(exported).toHaveLength(3);
    expect(metrics.read('lateSpans', 'sampled')).toBe(2);
    expect(metrics.read('lateSpans', 'not_sampled')).toBe(2);
    expect(metrics.read('bufferedTraces')).toBe(0);
  });

  it('applies max_spans_per_trace and decision_wait_after_root_received without reading them', () => {
    const { sampler, metrics, advance, read } = holding({
      decision_wait: '30s',
      decision_wait_after_root_received: '1s',
      max_spans_per_trace: 4,
    });
    sampler.hold([held(OK_TRACE, 3), held(ERROR_TRACE, 1, 0, true)]);
    expect(read).toEqual([]);
    sampler.hold([held(OK_TRACE, 2)]);
    expect(metrics.read('tracesDecidedEarly', 'size')).toBe(1);
    advance(1000);
    expect(metrics.read('tracesDecidedEarly', 'root')).toBe(1);
    expect(read).toEqual([OK_TRACE, OK_TRACE, ERROR_TRACE]);
  });

  it('hands held beacons over as spans when their trace moves to another replica', () => {
    const { sampler, read } = holding({ decision_wait: '10s' });
    sampler.hold([held(OK_TRACE, 2), held(ERROR_TRACE, 1)]);
    const moved = sampler.takeUndecided((traceId) => traceId === OK_TRACE);
    expect(moved.map((spans) => spans.length)).toEqual([2]);
    expect(read).toEqual([OK_TRACE]);
  });

  it('does not hold them for a span-ingest strategy, which decides as spans arrive', () => {
    const { sampler } = holding({ sampling_strategy: 'span-ingest' });
    expect(sampler.holdsBeacons).toBe(false);
  });
});
