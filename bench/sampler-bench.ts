import { randomFillSync } from 'node:crypto';
import type { BeaconBatch } from '../src/handoff/messages.ts';
import { resolveConfig } from '../src/service/load-config.ts';
import { handoffBatches } from '../test/support/handoff-batches.ts';
import { samplerHarness, shardIntake } from '../test/support/tail-sampler-harness.ts';
import type { BeaconFactory } from './beacons.ts';
import { realisticPolicies } from './contenders.ts';
import { type EncodeRate, timeAlternating } from './encode-bench.ts';

// Micro-bench: a worker shard's intake and tail sampler, up to the batch processor (not encoded or sent),
// on a manual clock that moves as 10,000 beacons a second would: each hand-off message of 64 beacons moves
// it 6.4 ms and ticks the sampler, which then holds decision_wait's worth of traces (20,000 at 2 s) and
// decides those due, as a shard at that rate does. A round is 1,024 beacons (16 messages). Against it, the
// same intake keeping everything: sampling that drops 86% of traces must cost less per span than keeping.

const BEACONS = 1024;
const PER_MESSAGE = 64;
const MESSAGE_MS = (PER_MESSAGE / 10_000) * 1000;
const NOTHING = new Uint8Array(0);

/**
 * A round's messages with new trace ids, which is what the sampler keys on: otherwise the second round's
 * traces would all be late spans of cached decisions. Both contenders draw them (about 0.03 µs a span).
 */
function freshIds(messages: BeaconBatch[], random: Buffer): BeaconBatch[] {
  randomFillSync(random);
  let next = 0;
  const id = () => {
    next += 16;
    return random.toString('hex', next - 16, next);
  };
  return messages.map((m) => ({ ...m, traceIds: m.traceIds.map(id) }));
}

/** A shard's intake in front of a tail sampler on a manual clock, with `tailSampling` or keeping everything. */
function shard(tailSampling: Record<string, unknown> | undefined) {
  const harness = samplerHarness(tailSampling);
  const ingest = shardIntake(harness);
  let spansOut = 0;
  return {
    round(messages: BeaconBatch[]): void {
      for (const message of messages) {
        ingest.beacons(message);
        harness.advance(MESSAGE_MS);
      }
      // What the sampler handed on is counted and let go, so that rounds do not accumulate it.
      spansOut += harness.exported.length;
      harness.exported.length = 0;
    },
    spansOut: () => spansOut,
  };
}

export interface SamplerBench {
  rates: EncodeRate[];
  /** Share of spans the realistic policies kept in the timed rounds. */
  keptShare: number;
}

export function samplerBench(beacons: BeaconFactory, seconds: number): SamplerBench {
  const texts = Array.from({ length: BEACONS }, () => beacons.next().toString('latin1'));
  const messages = handoffBatches(texts, PER_MESSAGE);
  const spans = BEACONS * beacons.spansPerBeacon;
  const random = Buffer.alloc(16 * BEACONS);
  const policies = realisticPolicies();
  const sampled = shard(policies.tail_sampling);
  const keepAll = shard(undefined);
  // Until the first traces are due, so that the timed rounds see a full buffer.
  const wait = resolveConfig(policies).tail_sampling?.decision_wait ?? 0;
  for (let ms = 0; ms <= wait; ms += MESSAGE_MS * messages.length) sampled.round(freshIds(messages, random));
  const warmed = sampled.spansOut();
  let rounds = 0;
  const rates = timeAlternating(
    [
      {
        name: 'tail sampling, realistic policies (hold, decide, read what is kept)',
        spans,
        run: () => {
          sampled.round(freshIds(messages, random));
          rounds++;
          return NOTHING;
        },
      },
      {
        name: 'keeping everything (every beacon read into spans)',
        spans,
        run: () => {
          keepAll.round(freshIds(messages, random));
          return NOTHING;
        },
      },
    ],
    seconds,
  );
  return { rates, keptShare: (sampled.spansOut() - warmed) / (rounds * spans) };
}
