import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

// A process's own resource usage from /proc (Linux): CPU time of all its threads, and peak RSS.

const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime, in seconds, from the text of /proc/<pid>/stat (fields 14 and 15, after the comm). */
export function cpuSecondsOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** VmHWM (peak resident set), in bytes, from the text of /proc/<pid>/status. */
export function peakRssOfStatus(status: string): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

export function cpuSeconds(pid: number): number {
  return cpuSecondsOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

export interface ThreadCpu {
  /** The main thread: the event loop that acknowledges beacons (with receiver threads: the supervisor). */
  main: number;
  /** edge-relay's receiver threads (named receiver-N), which acknowledge when there are several. */
  receivers: number;
  /** The other worker_threads (named WorkerThread by Node): the shards, the write-ahead log's writer. */
  workers: number;
  /** Everything else: V8's garbage collector and compiler helpers, the libuv pool (gzip, DNS, files). */
  other: number;
}

/** CPU seconds of a process's threads, grouped by role, from /proc/<pid>/task/<tid>/{comm,stat}. */
export function threadCpuSeconds(pid: number): ThreadCpu {
  const cpu: ThreadCpu = { main: 0, receivers: 0, workers: 0, other: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let seconds: number;
    let name: string;
    try {
      seconds = cpuSecondsOfStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    } catch {
      continue; // the thread ended between listing and reading
    }
    if (Number(tid) === pid) cpu.main += seconds;
    else if (name.startsWith('receiver-')) cpu.receivers += seconds;
    else if (name === 'WorkerThread') cpu.workers += seconds;
    else cpu.other += seconds;
  }
  return cpu;
}

export function peakRss(pid: number): number {
  return peakRssOfStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** Starts a new peak-RSS measurement window (Linux ≥ 4.0: "5" to clear_refs resets VmHWM). */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
