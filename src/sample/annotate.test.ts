import { describe, expect, it } from 'vitest';
import { spanRecord } from '../../test/support/span-fixture.ts';
import { ADJUSTED_COUNT_ATTRIBUTE, annotate, POLICY_ATTRIBUTE } from './annotate.ts';
import { thresholdOf } from './probability.ts';

const attribute = (record: ReturnType<typeof spanRecord>, key: string) =>
  record.span.attributes.find((a) => a.key === key)?.value;

describe('annotate', () => {
  it('writes th into the ot entry, keeping its other fields and the other vendors', () => {
    const record = spanRecord({ traceState: 'shop=x,ot=rv:0123456789abcd;th:0' });
    annotate([record], { policy: 'half', threshold: thresholdOf(50) }, false);
    expect(record.span.traceState).toBe('ot=th:8;rv:0123456789abcd,shop=x');
    expect(attribute(record, ADJUSTED_COUNT_ATTRIBUTE)).toEqual({ type: 'double', value: 2 });
    expect(attribute(record, POLICY_ATTRIBUTE)).toBeUndefined();
  });
  it('keeps a stricter threshold from head sampling: both samplers applied', () => {
    const record = spanRecord({ traceState: 'ot=th:c' });
    annotate([record], { policy: 'half', threshold: thresholdOf(50) }, true);
    expect(record.span.traceState).toBe('ot=th:c');
    expect(attribute(record, ADJUSTED_COUNT_ATTRIBUTE)).toEqual({ type: 'double', value: 4 });
    expect(attribute(record, POLICY_ATTRIBUTE)).toEqual({ type: 'string', value: 'half' });
  });
  it('leaves spans kept for certain untouched unless the policy is recorded', () => {
    const record = spanRecord({ traceState: 'shop=x' });
    annotate([record], { policy: 'errors', threshold: undefined }, false);
    expect(record.span.traceState).toBe('shop=x');
    expect(record.span.attributes).toEqual([]);
  });
});
