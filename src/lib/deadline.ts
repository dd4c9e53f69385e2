import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Resolves with `value` at `deadline` (epoch ms), at once if it has passed: the losing side of a race
 * against a drain. The timer is unreferenced, so one left pending after its race keeps no thread alive
 * and needs no clearing.
 */
export const atDeadline = <T>(deadline: number, value: T): Promise<T> =>
  sleep(Math.max(0, deadline - Date.now()), value, { ref: false });
