import { validateBeacon } from '../src/receive/beacon/validate-beacon.ts';
import { ajvBeaconValidator } from '../test/support/beacon-schema.ts';
import type { BeaconFactory } from './beacons.ts';
import { type EncodeRate, timeAlternating } from './encode-bench.ts';

// Micro-bench: validating a parsed bench beacon on the acking thread, by the relay's hand-written walk and by
// ajv compiled from the schema it was written from (what the relay ran before, and the walk's test oracle).
// A round validates 1,000 distinct beacons, so neither contender sees one object over and over.

const BEACONS = 1000;
const NOTHING = new Uint8Array(0);

export function validateBench(beacons: BeaconFactory, seconds: number): EncodeRate[] {
  const parsed = Array.from({ length: BEACONS }, () => JSON.parse(beacons.next().toString()) as unknown);
  const ajv = ajvBeaconValidator();
  if (!parsed.every((b) => validateBeacon(b) === undefined && ajv(b)))
    throw new Error('a bench beacon is invalid');
  const each = (name: string, validate: (beacon: unknown) => unknown) => ({
    name,
    // Counted in beacons: the rate is beacons per second.
    spans: BEACONS,
    run: () => {
      for (const beacon of parsed) validate(beacon);
      return NOTHING;
    },
  });
  return timeAlternating(
    [each('edge-relay validateBeacon', validateBeacon), each('ajv from beacon.schema.json', ajv)],
    seconds,
  );
}
