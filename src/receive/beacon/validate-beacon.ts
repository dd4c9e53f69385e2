import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Ajv, type ErrorObject } from 'ajv';
import { schemaProblem } from '../../lib/ajv-errors.ts';
import { invalid, type RequestError } from '../../lib/errors.ts';
import type { Beacon } from '../../model/beacon.ts';
import { protoFile } from '../../model/proto-files.ts';

// The shipped JSON Schema is the validator, so the documented format and the enforced one cannot drift.
const schema = JSON.parse(readFileSync(protoFile('beacon.schema.json'), 'utf8')) as object;
const validateSchema = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true }).compile<Beacon>(
  schema,
);

const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

function explain(error: ErrorObject): string {
  const { path, problem } = schemaProblem(error, 'field');
  return `${path || 'beacon'}: ${problem}`;
}

/** Checks a parsed beacon; returns undefined when valid, else a 400 error naming the field and the problem. */
export function validateBeacon(value: unknown): RequestError | undefined {
  if (!validateSchema(value))
    return invalid(explain((validateSchema.errors as ErrorObject[])[0] as ErrorObject));
  if (value.traceId === ZERO_TRACE_ID) return invalid('traceId: must not be all zeros');
  if (value.edge?.ip !== undefined && isIP(value.edge.ip) === 0)
    return invalid('edge.ip: not an IPv4 or IPv6 address');
  const spans = value.spans;
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i] as Beacon['spans'][number];
    if (span.id === ZERO_SPAN_ID) return invalid(`spans[${i}].id: must not be all zeros`);
    // As OTLP: an all-zero id is no parent (W3C Trace Context); a root span has none.
    if (span.parent === ZERO_SPAN_ID)
      return invalid(`spans[${i}].parent: must not be all zeros (omit it for a root span)`);
  }
  return undefined;
}
