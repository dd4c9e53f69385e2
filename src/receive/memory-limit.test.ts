import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../service/load-config.ts';
import { containerMemory, memoryLimits, parseBytes } from './memory-limit.ts';

const MIB = 1024 * 1024;
const limiter = (memory_limiter: Record<string, unknown>) => resolveConfig({ memory_limiter }).memory_limiter;

describe('memory limit', () => {
  it('parses byte quantities as Kubernetes writes them', () => {
    expect(parseBytes('536870912')).toBe(512 * MIB);
    expect(parseBytes('512Mi')).toBe(512 * MIB);
    expect(parseBytes('1G')).toBe(1e9);
    expect(parseBytes('max\n')).toBeUndefined();
    expect(parseBytes('0')).toBeUndefined();
  });

  it('takes EDGE_RELAY_MEMORY_LIMIT first, then the cgroup limit, skipping "max"', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cgroup-'));
    const unlimited = join(dir, 'memory.max');
    const v1 = join(dir, 'limit_in_bytes');
    writeFileSync(unlimited, 'max\n');
    writeFileSync(v1, `${768 * MIB}\n`);
    expect(containerMemory({ EDGE_RELAY_MEMORY_LIMIT: '1Gi' }, [unlimited, v1])).toBe(1024 * MIB);
    expect(containerMemory({}, [unlimited, v1])).toBe(768 * MIB);
    expect(() => containerMemory({ EDGE_RELAY_MEMORY_LIMIT: 'lots' })).toThrow(/EDGE_RELAY_MEMORY_LIMIT/);
  });

  it('resolves limits the Collector way: MiB first, spike 20% of the limit by default, else percentages', () => {
    expect(memoryLimits(limiter({ limit_mib: 1000 }), 4000 * MIB)).toEqual({
      hard: 1000 * MIB,
      soft: 800 * MIB,
      rss: 3800 * MIB,
    });
    expect(memoryLimits(limiter({ limit_mib: 1000, spike_limit_mib: 100 }), 0)).toMatchObject({
      hard: 1000 * MIB,
      soft: 900 * MIB,
    });
    expect(memoryLimits(limiter({}), 1000 * MIB)).toEqual({
      hard: 800 * MIB,
      soft: 600 * MIB,
      rss: 950 * MIB,
    });
    expect(() => memoryLimits(limiter({ limit_mib: 100, spike_limit_mib: 100 }), 0)).toThrow(
      /memory_limiter.spike_limit_mib/,
    );
  });
});
