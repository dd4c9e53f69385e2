import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lowers the calling thread's scheduling priority to `nice` (Linux gives every thread its own nice
 * value; /proc/thread-self names the thread). Worker shards call it so that, when the CPUs are busy,
 * the kernel runs the thread that acknowledges beacons first: a worker's burst of decoding, sampling or
 * compression then delays the worker, never an ack. Lowering priority needs no privilege. Returns false
 * where threads have no priority of their own, which changes nothing else.
 */
export function lowerThreadPriority(nice: number): boolean {
  if (nice === 0) return false;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
