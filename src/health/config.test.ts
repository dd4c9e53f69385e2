import { describe, expect, it } from 'vitest';
import { versionHealthConfig } from '../../test/support/version-health.ts';
import { resolveConfig } from '../service/load-config.ts';

describe('version_health config', () => {
  it('is off when absent, and fills spanmetrics-like defaults when present', () => {
    expect(resolveConfig({}).version_health).toBeUndefined();
    const config = versionHealthConfig();
    expect(config.span_kinds).toEqual(['SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT']);
    expect(config.histogram.explicit.buckets.slice(0, 3)).toEqual([2, 4, 6]);
    expect(config.histogram.explicit.buckets.at(-1)).toBe(15_000);
    expect(config.aggregation_temporality).toBe('AGGREGATION_TEMPORALITY_CUMULATIVE');
    expect(config.metrics_flush_interval).toBe(15_000);
    expect(config.aggregation_cardinality_limit).toBe(2000);
    expect(config.exemplars.enabled).toBe(true);
    expect(config.judge).toEqual({
      enabled: true,
      evaluation_interval: 60_000,
      window: 1_800_000,
      min_requests: 300,
      min_error_rate_increase: 0.02,
      min_latency_increase: 0.2,
      latency_quantile: 0.95,
      alpha: 0.01,
      max_looks: 60,
      max_pops: 20,
      evidence: { enabled: false },
    });
  });

  it('takes an exponential histogram for the push, keeping the explicit buckets for /metrics', () => {
    const config = versionHealthConfig({ histogram: { exponential: {} } });
    expect(config.histogram.exponential).toEqual({ max_size: 160 });
    expect(config.histogram.explicit.buckets).toHaveLength(16);
  });

  it('takes buckets as durations', () => {
    expect(
      versionHealthConfig({ histogram: { explicit: { buckets: ['100us', '1ms', '1.5s'] } } }).histogram
        .explicit.buckets,
    ).toEqual([0.1, 1, 1500]);
  });

  it.each([
    [{ unknown: 1 }, 'version_health.unknown: unknown key'],
    [
      { histogram: { explicit: { buckets: ['5ms', '1ms'] } } },
      'version_health.histogram.explicit.buckets[1]: buckets must be ascending',
    ],
    [{ histogram: { exponential: { max_size: 1 } } }, 'version_health.histogram.exponential.max_size'],
    [
      { dimensions: [{ name: 'span.name' }] },
      'version_health.dimensions[0].name: "span.name" is already a label',
    ],
    [{ span_kinds: ['SERVER'] }, 'version_health.span_kinds[0]: must be one of'],
    [{ aggregation_cardinality_limit: 1 }, 'version_health.aggregation_cardinality_limit'],
    [{ judge: { window: '30s' } }, 'version_health.judge.window: must be at least evaluation_interval'],
    [
      { judge: { evaluation_interval: '1s', window: '1h' } },
      'version_health.judge.window: is more than 1440',
    ],
    [{ judge: { evaluation_interval: 0 } }, 'version_health.judge.evaluation_interval: must be more than 0'],
    [{ judge: { alpha: 0 } }, 'version_health.judge.alpha'],
    [{ judge: { min_requests: 5 } }, 'version_health.judge.min_requests'],
    [{ judge: { evidence: { enabled: 'yes' } } }, 'version_health.judge.evidence.enabled'],
  ])('refuses %j', (section, message) => {
    expect(() => resolveConfig({ version_health: section })).toThrow(message);
  });
});
