import { describe, expect, it } from 'vitest';
import { AdmissionFlag } from './admission-flag.ts';

describe('AdmissionFlag', () => {
  it('shows every view of one buffer the decision last published', () => {
    const published = new AdmissionFlag(AdmissionFlag.allocate());
    const seen = new AdmissionFlag(published.buffer);
    expect([seen.shedding, seen.why]).toEqual([false, undefined]);
    published.publish({ shedding: true, retryAfter: 7, why: 'queue' });
    expect([seen.shedding, seen.retryAfter, seen.why]).toEqual([true, 7, 'queue']);
    published.publish({ shedding: false, retryAfter: 1, why: undefined });
    expect([seen.shedding, seen.retryAfter, seen.why]).toEqual([false, 1, undefined]);
  });
});
