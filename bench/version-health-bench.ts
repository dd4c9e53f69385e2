import { beaconToSpans } from '../src/enrich/beacon-to-spans.ts';
import { edgeResources } from '../src/enrich/edge-resource.ts';
import { RedTable } from '../src/health/red-table.ts';
import type { Beacon } from '../src/model/beacon.ts';
import type { SpanRecord } from '../src/model/span.ts';
import { resolveConfig } from '../src/service/load-config.ts';
import type { BeaconFactory } from './beacons.ts';
import { type EncodeRate, timeAlternating } from './encode-bench.ts';

// Micro-bench: the worker-side cost of the version-health stage per span (every span of the bench's
// beacons, of which the server and the origin span are counted), over 8 versions at 4 PoPs, with the
// bundled config's defaults. With tail sampling, each trace also gets its decision (one in ten kept).

const BATCH = 512;
const NOTHING = new Uint8Array(0);

export function versionHealthBench(beacons: BeaconFactory, seconds: number): EncodeRate[] {
  const config = resolveConfig({ version_health: {} }).version_health;
  const exponential = resolveConfig({ version_health: { histogram: { exponential: {} } } }).version_health;
  if (!config || !exponential) throw new Error('version_health did not resolve');
  const resourceOf = edgeResources({ pops: [], default_service_name: 'edgeworker', pop_cache_size: 64 });
  const records: SpanRecord[] = [];
  for (let i = 0; records.length < BATCH; i++) {
    const beacon = JSON.parse(beacons.next().toString()) as Beacon;
    beacon.worker = { ...beacon.worker, version: `1.${i % 8}.0` };
    beacon.edge = { ...beacon.edge, pop: ['FRA', 'AMS', 'LHR', 'CDG'][i % 4] as string };
    records.push(...beaconToSpans(beacon, resourceOf(beacon, '127.0.0.1')));
  }
  const batch = records.slice(0, BATCH);
  const traces = [...new Set(batch.map((r) => r.span.traceId))];
  const keepAll = new RedTable(config);
  const sampled = new RedTable(config);
  sampled.keepsAll = false;
  const expo = new RedTable(exponential);
  let now = Date.now();
  // One round: count the batch, let the sampler decide its traces (if it is asked to), report.
  const counting = (name: string, table: RedTable, decide = false) => ({
    name,
    spans: batch.length,
    run: () => {
      now += 1;
      table.record(batch, now);
      if (decide) for (const [i, traceId] of traces.entries()) table.decided(traceId, i % 10 === 0);
      table.snapshot(now);
      return NOTHING;
    },
  });
  return timeAlternating(
    [
      counting('version health, no tail sampling', keepAll),
      counting('version health with an exponential histogram too, no tail sampling', expo),
      counting('version health, tail sampling (candidates, decisions)', sampled, true),
    ],
    seconds,
  );
}
