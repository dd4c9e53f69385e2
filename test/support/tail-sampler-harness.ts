import type { SpanRecord } from '../../src/model/span.ts';
import type { SpanProcessor } from '../../src/model/span-processor.ts';
import { samplingSetup } from '../../src/sample/sampling-setup.ts';
import { TailSampler } from '../../src/sample/tail-sampler.ts';
import { resolveConfig } from '../../src/service/load-config.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import {
  allocateSamplingMetrics,
  PolicySlots,
  SamplingMetricsWriter,
} from '../../src/telemetry/sampling-metrics.ts';
import type { SettledSegmentsWriter } from '../../src/telemetry/settled-segments.ts';
import {
  allocateSharedMetrics,
  SharedMetricsReader,
  SharedMetricsWriter,
} from '../../src/telemetry/shared-metrics.ts';
import { shardIngest } from '../../src/worker/shard-ingest.ts';
import { manualClock, spanRecord } from './span-fixture.ts';

// A tail sampler on a manual clock with an "errors" policy, its kept spans collected, for the
// sampler's unit tests.

export const errors = { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } };
export const ERROR_TRACE = 'e0000000000000000000000000000001';
export const OK_TRACE = '00000000000000000000000000000002';

export function setupOf(tailSampling: Record<string, unknown> | undefined) {
  const config = resolveConfig(
    tailSampling ? { tail_sampling: { policies: [errors], ...tailSampling } } : {},
  );
  return samplingSetup(config.tail_sampling, 1, new PolicySlots());
}

/** `settled`: where the sampler settles spans of write-ahead-log segments, if a test looks. */
export function samplerHarness(
  tailSampling: Record<string, unknown> | undefined,
  settled?: SettledSegmentsWriter,
) {
  const clock = manualClock();
  const buffer = allocateSharedMetrics(1);
  const metrics = new SharedMetricsReader(buffer);
  const exported: SpanRecord[] = [];
  let drained = false;
  const next = {
    consume: (r: readonly SpanRecord[]) => void exported.push(...r),
    drain: async () => {
      drained = true;
    },
  };
  const writer = new SharedMetricsWriter(buffer, 0);
  const sampler = new TailSampler(
    setupOf(tailSampling),
    next,
    writer,
    new SamplingMetricsWriter(allocateSamplingMetrics(1), 0),
    settled,
    clock.now,
    () => () => {},
  );
  const advance = (ms: number) => {
    clock.advance(ms);
    sampler.tick();
  };
  return { sampler, exported, metrics, writer, advance, drained: () => drained, setupOf };
}

/**
 * A shard's intake (hand-off messages in) in front of a harness's sampler, with no cluster and no version
 * health; `pipeline` is the first stage for beacons read at once (the sampler unless a test records it).
 */
export function shardIntake(
  harness: ReturnType<typeof samplerHarness>,
  pipeline: SpanProcessor = harness.sampler,
) {
  return shardIngest({
    enrichment: resolveConfig({}).enrichment,
    identityAttribute: '',
    metrics: harness.writer,
    settled: undefined,
    log: createLogger('silent'),
    pipeline,
    sampler: harness.sampler,
    cluster: undefined,
    health: undefined,
  });
}

export const child = (traceId: string, status: 0 | 2 = 0, size = 100) =>
  spanRecord({ traceId, status, size });
export const root = (traceId: string) => spanRecord({ traceId, parent: '' });
