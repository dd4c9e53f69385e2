import { describe, expect, it } from 'vitest';
import { trace } from '../../test/support/span-fixture.ts';
import { alwaysSample } from './always-sample.ts';

describe('always_sample', () => {
  it('keeps every trace, without a probability threshold', () => {
    expect(alwaysSample('all').evaluate(trace({}))).toEqual({ kind: 'sampled' });
  });
});
