import type { BeaconAttributes, Scalar } from '../model/beacon.ts';
import type { AnyValue, KeyValue } from '../model/span.ts';

function scalarValue(value: Scalar): AnyValue {
  if (typeof value === 'string') return { type: 'string', value };
  if (typeof value === 'boolean') return { type: 'bool', value };
  // JSON has one number type: integral values become OTLP ints, the rest doubles.
  return Number.isSafeInteger(value) ? { type: 'int', value } : { type: 'double', value };
}

/** Converts beacon attributes to OTLP key-values. */
export function attributesOf(attrs: BeaconAttributes | undefined): KeyValue[] {
  if (!attrs) return [];
  const out: KeyValue[] = [];
  for (const key in attrs) {
    const value = attrs[key] as Scalar | Scalar[];
    out.push({
      key,
      value: Array.isArray(value) ? { type: 'array', value: value.map(scalarValue) } : scalarValue(value),
    });
  }
  return out;
}
