import autocannon from 'autocannon';
import type { BeaconFactory } from '../beacons.ts';
import { LatencyRecorder } from './latency.ts';
import { cpuSecondsSince, type LoadResult } from './load-result.ts';

/** Closed-loop load (each connection sends its next beacon when the last one is answered): throughput. */
export function saturate(
  url: string,
  beacons: BeaconFactory,
  options: { seconds: number; connections: number },
): Promise<LoadResult> {
  const latencies = new LatencyRecorder();
  const cpu = process.cpuUsage();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: options.connections,
        duration: options.seconds,
        timeout: 10,
        requests: [
          {
            method: 'POST',
            path: '/v1/beacons',
            headers: { 'content-type': 'application/json' },
            setupRequest: (request) => {
              request.body = beacons.next();
              return request;
            },
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err);
        resolve({
          seconds: result.duration,
          acked: result['2xx'],
          refused: result.non2xx,
          errors: result.errors,
          latency: latencies.summary(),
          autocannonMs: { p50: result.latency.p50, p99: result.latency.p99, p999: result.latency.p99_9 },
          generatorCpuSeconds: cpuSecondsSince(cpu),
        });
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) latencies.record(ms);
    });
  });
}
