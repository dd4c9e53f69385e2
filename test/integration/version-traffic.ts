import type { RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';
import { postAll, traceIdWith } from './tail-sampling-traffic.ts';

// Beacons of two versions of one EdgeWorker (42817) for the version judge: the new one (BAD) fails every
// other pair of requests, the old one (GOOD) never does.

export const GOOD = '1.4.2';
export const BAD = '1.5.0';

/** A server span (failed for the bad version every other request) with its origin sub-request. */
function edgeBeacon(serial: number, count: number, version: string): { traceId: string; text: string } {
  // Randomness spread evenly over [0, 2^56): the 10% policy keeps exactly a tenth of each batch.
  const traceId = traceIdWith(
    serial,
    ((BigInt(serial) * 7919n) % BigInt(count)) * ((1n << 56n) / BigInt(count)),
  );
  const id = traceId.slice(6, 18);
  const failed = version === BAD && Math.floor(serial / 2) % 2 === 0;
  const text = JSON.stringify({
    v: 1,
    traceId,
    ts: 1764070000000,
    worker: { id: '42817', version },
    edge: { ip: '203.0.113.7', pop: serial % 3 === 0 ? 'AMS' : 'FRA' },
    spans: [
      {
        id: `${id}0001`,
        name: 'GET /product/:id',
        kind: 'server',
        start: 0,
        dur: 20 + (serial % 9),
        ...(failed ? { status: 'error' } : {}),
      },
      {
        id: `${id}0002`,
        parent: `${id}0001`,
        name: 'origin GET',
        kind: 'client',
        start: 1,
        dur: 10 + (serial % 5),
      },
    ],
  });
  return { traceId, text };
}

/** `count` traces per version, interleaved, from serial number `from`. */
export function traffic(from: number, count: number, versions: readonly string[]) {
  return Array.from({ length: count * versions.length }, (_, i) => {
    const version = versions[i % versions.length] as string;
    return { version, ...edgeBeacon(from + i, count * versions.length, version) };
  });
}

/**
 * Posts traffic() as a rollout goes: the baseline (its first beacon) is counted before the rest, with
 * the candidate, is posted. The judge takes the version it saw first as the older one, and the shards'
 * snapshots of a mixed start could show either version first.
 */
export async function postRollout(relay: RelayProcess, sent: readonly { text: string }[]): Promise<void> {
  const [first, ...rest] = sent.map((t) => t.text);
  await postAll(relay, [first as string]);
  await waitFor(
    async () => (await relay.metric('edge_relay_edge_requests_total')) > 0,
    'the baseline counted',
  );
  await postAll(relay, rest);
}
