import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { protoFile } from '../../src/model/proto-files.ts';

// The shipped beacon schema, and ajv compiled from it as the relay compiled it before its validator was
// written by hand: that validator's test oracle, and its contender in the bench.

export const beaconSchema = JSON.parse(readFileSync(protoFile('beacon.schema.json'), 'utf8')) as Record<
  string,
  unknown
>;

export const ajvBeaconValidator = () =>
  new Ajv({ allErrors: false, strict: true, allowUnionTypes: true }).compile(beaconSchema);
