import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { ConfigError } from '../lib/errors.ts';
import type { MemoryLimiterConfig } from './config.ts';

const MIB = 1024 * 1024;
const UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, ki: 1024, mi: MIB, gi: 1024 * MIB };

/** Parses a Kubernetes-style quantity of bytes ("536870912", "512Mi", "1G"); undefined when it is none. */
export function parseBytes(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?)?\s*$/i.exec(text);
  if (!match) return undefined;
  const bytes = Number(match[1]) * (UNITS[(match[2] ?? '').toLowerCase()] as number);
  return bytes > 0 ? bytes : undefined;
}

const CGROUP_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];
// cgroup v1 writes "no limit" as a page-rounded 2^63.
const UNLIMITED = 2 ** 60;

/**
 * The memory the process may use: EDGE_RELAY_MEMORY_LIMIT (set by the Helm chart from the pod's
 * limit through the downward API), else the cgroup limit, else the host's memory.
 */
export function containerMemory(env: NodeJS.ProcessEnv = process.env, files = CGROUP_FILES): number {
  const fromEnv = env.EDGE_RELAY_MEMORY_LIMIT;
  if (fromEnv) {
    const bytes = parseBytes(fromEnv);
    if (bytes === undefined) {
      throw new ConfigError('EDGE_RELAY_MEMORY_LIMIT', `"${fromEnv}" is not a number of bytes such as 512Mi`);
    }
    return bytes;
  }
  for (const file of files) {
    try {
      const bytes = parseBytes(readFileSync(file, 'utf8'));
      if (bytes !== undefined && bytes < UNLIMITED) return bytes;
    } catch {
      // Not in this cgroup version (or not in a container).
    }
  }
  return totalmem();
}

/** Share of the container's memory that RSS may reach before everything is refused. */
const RSS_GUARD = 0.95;

export interface MemoryLimits {
  /** Memory in use (heaps and array buffers) above which collections are forced without pause: the limit. */
  hard: number;
  /** Memory in use above which new data is refused: the limit minus the spike allowance. */
  soft: number;
  /**
   * RSS above which new data is refused whatever the heaps say: 95% of the container's memory, where
   * the OOM killer is near. Not the configured limit: RSS keeps pages freed by a burst, and exceeds
   * the memory in use by the runtime's own (code, threads, allocator), so a guard at the limit would
   * refuse long after the data is gone.
   */
  rss: number;
}

/** Resolves the limiter's byte limits the Collector's way: explicit MiB first, else percentages. */
export function memoryLimits(config: MemoryLimiterConfig, total: number): MemoryLimits {
  const hard = config.limit_mib > 0 ? config.limit_mib * MIB : (total * config.limit_percentage) / 100;
  const spike =
    config.spike_limit_mib > 0
      ? config.spike_limit_mib * MIB
      : config.limit_mib > 0
        ? hard * 0.2
        : (total * config.spike_limit_percentage) / 100;
  if (spike >= hard) {
    throw new ConfigError(
      config.spike_limit_mib > 0 ? 'memory_limiter.spike_limit_mib' : 'memory_limiter.spike_limit_percentage',
      `the spike allowance (${Math.round(spike / MIB)} MiB) must be below the limit (${Math.round(hard / MIB)} MiB)`,
    );
  }
  return { hard: Math.floor(hard), soft: Math.floor(hard - spike), rss: Math.floor(total * RSS_GUARD) };
}
