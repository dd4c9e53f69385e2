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
  ])('refuses %j', (section, message) => {
    expect(() => resolveConfig({ version_health: section })).toThrow(message);
  });
});
