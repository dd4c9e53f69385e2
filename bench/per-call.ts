/**
 * CPU and wall µs per call of a synchronous `fn`, after 2,000 warm-up calls: at most 20,000 calls or
 * 2 s, whichever comes first, so a slow function still ends the measure.
 */
export function perCall(fn: () => unknown): { cpu: number; wall: number } {
  for (let i = 0; i < 2000; i++) fn();
  const deadline = performance.now() + 2000;
  const start = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (n < 20_000 && performance.now() < deadline) {
    fn();
    n++;
  }
  const used = process.cpuUsage(start);
  return { cpu: (used.user + used.system) / n, wall: ((performance.now() - t0) * 1000) / n };
}
