import { describe, expect, it } from 'vitest';
import { replicaTurn } from './replica-turn.ts';

const MEMBERS = ['http://10.0.0.1:4318', 'http://10.0.0.2:4318', 'http://10.0.0.3:4318'];

describe('replicaTurn', () => {
  it('gives each member of a cluster a different turn, the same on every replica', () => {
    for (const id of ['42817', '7', '123456']) {
      const turns = MEMBERS.map((self) => replicaTurn(self, [...MEMBERS].reverse(), id));
      expect([...turns].sort()).toEqual([0, 1, 2]);
    }
  });

  it('is 0 for a replica alone', () => {
    expect(replicaTurn('http://10.0.0.1:4318', [], '42817')).toBe(0);
    expect(replicaTurn('http://10.0.0.1:4318', ['http://10.0.0.1:4318'], '42817')).toBe(0);
  });
});
