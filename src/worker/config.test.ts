import { describe, expect, it } from 'vitest';
import { cpusAvailable, resolveReceiverThreads } from './config.ts';

describe('receiver threads', () => {
  const auto = { threads: 0, durability: 'none' } as const;

  it('default to half the CPUs, at least one, and to one with the write-ahead log', () => {
    expect([1, 2, 3, 4, 8].map((cpus) => resolveReceiverThreads(auto, cpus))).toEqual([1, 1, 2, 2, 4]);
    expect(resolveReceiverThreads({ threads: 0, durability: 'wal' }, 8)).toBe(1);
    expect(resolveReceiverThreads({ threads: 3, durability: 'none' }, 1)).toBe(3);
  });

  it("count the container's CPU limit where the chart passes it, not the node's cores", () => {
    expect(cpusAvailable({ EDGE_RELAY_CPU_LIMIT: '4' })).toBe(4);
    expect(cpusAvailable({ EDGE_RELAY_CPU_LIMIT: '' })).toBeGreaterThan(0);
    expect(cpusAvailable({ EDGE_RELAY_CPU_LIMIT: 'lots' })).toBeGreaterThan(0);
  });
});
