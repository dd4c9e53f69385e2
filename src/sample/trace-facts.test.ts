import { describe, expect, it } from 'vitest';
import { type Random, seeded } from '../../test/support/random.ts';
import { errors, setupOf } from '../../test/support/tail-sampler-harness.ts';
import { beaconToSpans } from '../enrich/beacon-to-spans.ts';
import type { Beacon, BeaconSpan } from '../model/beacon.ts';
import { FACTS, writeBeaconFacts } from '../model/beacon-facts.ts';
import type { Resource, SpanRecord } from '../model/span.ts';
import type { HeldBeacon } from './held-beacon.ts';
import { PolicySet } from './policies.ts';
import { spanFacts, traceFacts } from './trace-facts.ts';

const RESOURCE: Resource = { attributes: [], droppedAttributesCount: 0, schemaUrl: '', key: '' };
const STATUSES = [undefined, 'unset', 'ok', 'error'] as const;

/** A number with up to `decimals` random decimals: what rounding to nanoseconds has to get right. */
const fraction = (random: Random, max: number, decimals: number) =>
  Math.round(random() * max * 10 ** decimals) / 10 ** decimals;

function randomBeacon(random: Random, traceId: string): Beacon {
  const spans: BeaconSpan[] = Array.from({ length: 1 + Math.floor(random() * 8) }, (_, i) => ({
    id: `${i + 1}`.padStart(16, '0'),
    ...(random() < 0.3 ? {} : { parent: 'ff'.repeat(8) }),
    name: 's',
    start: fraction(random, 3000, 1 + Math.floor(random() * 7)),
    dur: fraction(random, 1500, 1 + Math.floor(random() * 7)),
    ...(() => {
      const status = STATUSES[Math.floor(random() * STATUSES.length)];
      return status === undefined ? {} : { status };
    })(),
  }));
  return {
    v: 1,
    traceId,
    // Epoch milliseconds with microsecond decimals, as edge clocks send them.
    ts: 1_764_070_000_000 + fraction(random, 10_000, 3),
    worker: { id: '1', version: '1' },
    spans,
  };
}

/** The trace's beacons as a shard holds them (facts as the receiver writes them), and as the spans they read into. */
function bothWays(beacons: readonly Beacon[]): { held: HeldBeacon[]; records: SpanRecord[] } {
  const facts = new Float64Array(beacons.length * FACTS);
  const held = beacons.map((beacon, i) => {
    writeBeaconFacts(facts, i * FACTS, beacon, 0, undefined);
    return { traceId: beacon.traceId, text: '', facts, at: i * FACTS };
  });
  return { held, records: beacons.flatMap((beacon) => beaconToSpans(beacon, RESOURCE)) };
}

const SEED = 19;
const TRACES = 2000;

describe('trace facts from held beacons', () => {
  it(`equal the facts of the spans they read into (${TRACES} seeded random traces, seed ${SEED})`, () => {
    const random = seeded(SEED);
    for (let n = 0; n < TRACES; n++) {
      const traceId = Math.floor(random() * 2 ** 52)
        .toString(16)
        .padStart(32, '0');
      const beacons = Array.from({ length: 1 + Math.floor(random() * 4) }, () =>
        randomBeacon(random, traceId),
      );
      const { held, records } = bothWays(beacons);
      const expected = spanFacts(records);
      expect(traceFacts([], held), `trace ${n}`).toEqual(expected);
      // Part read already, part still held.
      const firstSpans = beaconToSpans(beacons[0] as Beacon, RESOURCE);
      expect(traceFacts(firstSpans, held.slice(1)), `trace ${n}, part read`).toEqual(expected);
    }
  });

  it('decide the realistic policies exactly as the spans do, at the latency bound too', () => {
    const random = seeded(SEED + 1);
    const setup = setupOf({
      policies: [
        errors,
        { name: 'slow', type: 'latency', latency: { threshold_ms: 1000 } },
        { name: 'ten', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } },
      ],
    });
    if (!setup) throw new Error('no sampling setup');
    const policies = new PolicySet(setup.config, 1, () => 0);
    let kept = 0;
    let slowEdge = 0;
    for (let n = 0; n < TRACES; n++) {
      const traceId = Math.floor(random() * 2 ** 52)
        .toString(16)
        .padStart(32, '0');
      const beacon = randomBeacon(random, traceId);
      // Every fourth trace lasts exactly the threshold, where > must not become >= by rounding.
      if (n % 4 === 0) beacon.spans = [{ id: '1'.padStart(16, '0'), name: 's', start: 0.1234, dur: 1000 }];
      const { held, records } = bothWays([beacon]);
      const fromSpans = policies.evaluate({ traceId, spans: records, bytes: 0, facts: spanFacts(records) });
      const facts = traceFacts([], held);
      if (!facts) throw new Error('no facts');
      const fromFacts = policies.evaluate({ traceId, spans: [], bytes: 0, facts });
      expect(fromFacts, `trace ${n}`).toEqual(fromSpans);
      if (fromSpans.outcome === 'sampled') kept++;
      if (n % 4 === 0 && fromSpans.outcome !== 'sampled') slowEdge++;
    }
    // Both outcomes are exercised: the comparison above could not pass by always agreeing on one.
    expect(kept).toBeGreaterThan(TRACES / 10);
    expect(TRACES - kept).toBeGreaterThan(TRACES / 10);
    expect(slowEdge).toBeGreaterThan(0);
  });
});
