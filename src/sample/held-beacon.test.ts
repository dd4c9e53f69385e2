import { describe, expect, it } from 'vitest';
import { spanRecord } from '../../test/support/span-fixture.ts';
import { ERROR_TRACE, OK_TRACE, samplerHarness } from '../../test/support/tail-sampler-harness.ts';
import type { Beacon } from '../model/beacon.ts';
import { FACTS, writeBeaconFacts } from '../model/beacon-facts.ts';
import type { SpanRecord } from '../model/span.ts';
import {
  allocateSettledSegments,
  SettledSegmentsReader,
  SettledSegmentsWriter,
  segmentSlot,
} from '../telemetry/settled-segments.ts';
import { type HeldBeacon, heldBytes, heldText } from './held-beacon.ts';

interface Held {
  status?: 0 | 2;
  root?: boolean;
  segment?: number;
  traceState?: string;
}

/**
 * A held beacon of `spans` spans of the trace, with the facts the receiver writes for such a beacon;
 * its text is what the test reader turns into spans.
 */
function held(
  traceId: string,
  spans: number,
  { status = 0, root = false, segment, traceState }: Held = {},
): HeldBeacon {
  const beacon: Beacon = {
    v: 1,
    traceId,
    ...(traceState === undefined ? {} : { traceState }),
    ts: 1_764_070_000_000,
    worker: { id: '1', version: '1' },
    spans: Array.from({ length: spans }, (_, i) => ({
      id: `${i + 1}`.padStart(16, '0'),
      ...(root && i === 0 ? {} : { parent: 'ff'.repeat(8) }),
      name: 's',
      start: 0,
      dur: 1,
      status: status === 2 ? 'error' : 'unset',
    })),
  };
  const text = `[${JSON.stringify({ traceId, spans, status, root })}]`;
  const facts = new Float64Array(FACTS);
  writeBeaconFacts(facts, 0, beacon, text.length - 1, segment);
  return { traceId, text, facts, at: 0 };
}

/** The sampler reading held beacons with a reader that counts what it reads. */
function holding(tailSampling: Record<string, unknown>, settled?: SettledSegmentsWriter) {
  const harness = samplerHarness(tailSampling, settled);
  const read: string[] = [];
  harness.sampler.readBeacon = (beacon): SpanRecord[] => {
    const { traceId, spans, status, root } = JSON.parse(heldText(beacon));
    read.push(traceId);
    return Array.from({ length: spans }, () =>
      spanRecord({ traceId, status, ...(root ? { parent: '' } : {}) }),
    );
  };
  return { ...harness, read };
}

describe('TailSampler holding beacons as their text', () => {
  it('decides on their facts when the trace is due, reading only the kept ones; counts their bytes meanwhile', () => {
    const { sampler, exported, metrics, advance, read } = holding({ decision_wait: '10s' });
    expect(sampler.holdsBeacons).toBe(true);
    const beacons = [held(ERROR_TRACE, 2, { status: 2 }), held(OK_TRACE, 3), held(ERROR_TRACE, 1)];
    sampler.hold(beacons);
    expect(read).toEqual([]);
    expect(metrics.read('bufferedTraces')).toBe(2);
    expect(metrics.read('bufferedSpans')).toBe(6);
    expect(metrics.read('bufferedBytes')).toBe(beacons.reduce((sum, b) => sum + heldBytes(b), 0));
    advance(10_000);
    expect(read).toEqual([ERROR_TRACE, ERROR_TRACE]);
    expect(exported.map((r) => r.span.traceId)).toEqual([ERROR_TRACE, ERROR_TRACE, ERROR_TRACE]);
    expect(metrics.read('spansSampledOut')).toBe(3);
    expect(metrics.read('bufferedBytes')).toBe(0);
  });

  it('shares a trace with spans that came as spans, and decides them together', () => {
    const { sampler, exported, advance } = holding({ decision_wait: '1s' });
    sampler.consume([spanRecord({ traceId: OK_TRACE })]);
    sampler.hold([held(OK_TRACE, 1, { status: 2 })]);
    advance(1000);
    expect(exported).toHaveLength(2);
  });

  it('reads a late beacon of a kept trace at once; one of a dropped trace follows unread', () => {
    const { sampler, exported, metrics, advance, read } = holding({ decision_wait: '1s' });
    sampler.hold([held(ERROR_TRACE, 1, { status: 2 }), held(OK_TRACE, 1)]);
    advance(1000);
    sampler.hold([held(ERROR_TRACE, 2), held(OK_TRACE, 2)]);
    expect(read).toEqual([ERROR_TRACE, ERROR_TRACE]);
    expect(metrics.read('decisionCacheHits', 'not_sampled')).toBe(1);
    expect(metrics.read('spansSampledOut')).toBe(3);
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
    sampler.hold([held(OK_TRACE, 3), held(ERROR_TRACE, 1, { root: true })]);
    expect(read).toEqual([]);
    sampler.hold([held(OK_TRACE, 2)]);
    expect(metrics.read('tracesDecidedEarly', 'size')).toBe(1);
    advance(1000);
    expect(metrics.read('tracesDecidedEarly', 'root')).toBe(1);
    // Both are dropped, on their facts.
    expect(read).toEqual([]);
    expect(metrics.read('spansSampledOut')).toBe(6);
  });

  it('settles dropped beacons it never read against their log segments', () => {
    const buffer = allocateSettledSegments(1);
    const { sampler, advance, read } = holding({ decision_wait: '1s' }, new SettledSegmentsWriter(buffer, 0));
    sampler.hold([
      held(OK_TRACE, 2, { segment: 3 }),
      held(OK_TRACE, 1, { segment: 4 }),
      held(ERROR_TRACE, 1),
    ]);
    advance(1000);
    sampler.hold([held(OK_TRACE, 5, { segment: 4 })]);
    expect(read).toEqual([]);
    const settled = new SettledSegmentsReader(buffer);
    expect([settled.read(segmentSlot(3)), settled.read(segmentSlot(4))]).toEqual([2, 6]);
  });

  it('reads every beacon before deciding when a policy reads spans, or a stage counts every span', () => {
    const byAttribute = holding({
      decision_wait: '1s',
      policies: [
        { name: 'route', type: 'string_attribute', string_attribute: { key: 'route', values: ['/a'] } },
      ],
    });
    byAttribute.sampler.hold([held(OK_TRACE, 1)]);
    byAttribute.advance(1000);
    expect(byAttribute.read).toEqual([OK_TRACE]);
    const counted = holding({ decision_wait: '1s' });
    counted.sampler.readEveryBeacon = true;
    counted.sampler.hold([held(OK_TRACE, 1)]);
    counted.advance(1000);
    counted.sampler.hold([held(OK_TRACE, 1)]);
    expect(counted.read).toEqual([OK_TRACE, OK_TRACE]);
  });

  it('reads a trace whose tracestate may carry randomness before a probabilistic policy decides it', () => {
    // rv 0 is the least randomness there is: 50% drops the trace, whose id alone would keep it.
    const traceId = 'ffffffffffffffffffffffffffffffff';
    const policies = [{ name: 'half', type: 'probabilistic', probabilistic: { sampling_percentage: 50 } }];
    const { sampler, exported, advance, read } = holding({ decision_wait: '1s', policies });
    sampler.readBeacon = (beacon) => {
      read.push(beacon.traceId);
      return [spanRecord({ traceId, traceState: 'ot=rv:00000000000000' })];
    };
    sampler.hold([held(traceId, 1, { traceState: 'ot=rv:00000000000000' })]);
    advance(1000);
    expect(read).toEqual([traceId]);
    expect(exported).toEqual([]);
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
