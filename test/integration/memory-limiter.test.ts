import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { settledAccounting } from '../support/accounting.ts';
import { uniqueBeacon } from '../support/beacons.ts';
import { faultConfig } from '../support/fault-config.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';

const MIB = 1024 * 1024;
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** An OTLP/JSON request of `spans` spans, each with a 1,000-character attribute: about 1.1 MB. */
function largeRequest(spans = 900): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [] },
        scopeSpans: [
          {
            scope: { name: 'memory-limiter-test' },
            spans: Array.from({ length: spans }, () => ({
              traceId: hex(16),
              spanId: hex(8),
              name: 'large',
              startTimeUnixNano: '1764000000000000001',
              endTimeUnixNano: '1764000000000000002',
              attributes: [{ key: 'pad', value: { stringValue: hex(500) } }],
            })),
          },
        ],
      },
    ],
  });
}

// Generous: these start relay processes on a shared 2-core machine.
describe('the memory limiter', { timeout: 180_000 }, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('refuses while large requests hold memory, and accepts again once they are exported and freed', async () => {
    // The backend takes nothing until released: what the relay accepted stays in its memory.
    const sink = await OtlpSink.start();
    cleanup.push(() => sink.close());
    const release = sink.hold();
    // About 60 MB in use idle (two workers, run from source), RSS about 230 MB: the soft limit of
    // 120 MiB is about 60 MB above the idle use, and below the idle RSS.
    const relay = await RelayProcess.start(
      faultConfig(
        sink.url,
        { compression: 'none' },
        {
          receiver: { endpoint: '127.0.0.1:0', max_request_body_size: 2 * MIB },
          memory_limiter: {
            check_interval: '100ms',
            limit_mib: 200,
            spike_limit_mib: 80,
            min_gc_interval_when_soft_limited: '500ms',
          },
        },
      ),
    );
    cleanup.push(() => relay.stop());
    const beacon = await relay.post('/v1/beacons', uniqueBeacon(0, 3).text);
    expect(beacon.status).toBe(202);

    // Large requests until the limiter has refused 20 (a bounded number: 400 would be 400 MB). It
    // lets some in whenever collections bring memory back under the soft limit: what it holds stays
    // about there, and the backend takes none of it.
    const body = largeRequest();
    let accepted = 0;
    const refusals: string[] = [];
    for (let n = 0; n < 400 && refusals.length < 20; n++) {
      const response = await relay.post('/v1/traces', body);
      const text = await response.text();
      if (response.status === 200) accepted++;
      else refusals.push(`${response.status} ${text}`);
    }
    expect(refusals).toHaveLength(20);
    expect(refusals.every((refusal) => /^429 .*memory limit/.test(refusal))).toBe(true);
    expect(accepted).toBeGreaterThan(0);
    expect(await relay.metric('edge_relay_memory_limiter_collections_total')).toBeGreaterThan(0);

    // The backend takes everything: the data is exported, freed and collected, and the relay
    // accepts again by itself.
    release();
    let n = 1;
    // Accepted, and the reason cleared at the same look: a check between the two reads may see memory
    // rise again while collections catch up on a loaded machine.
    await waitFor(async () => {
      const response = await relay.post('/v1/beacons', uniqueBeacon(n++, 3).text);
      await response.arrayBuffer();
      return (
        response.status === 202 &&
        (await relay.metric('edge_relay_admission_shedding', { reason: 'memory' })) === 0
      );
    }, 'a beacon to be accepted, and the memory reason cleared, once the pressure is gone');
    // RSS never falls below the idle relay's, which is above the soft limit: deciding on it would
    // refuse for ever.
    expect(await relay.metric('process_resident_memory_bytes')).toBeGreaterThan(120 * MIB);
    const accounting = await settledAccounting(relay);
    expect(accounting.droppedTotal).toBe(0);
    expect(accounting.exported).toBe(accounting.received);
  });
});
