import { describe, expect, expectTypeOf, it } from 'vitest';
import type { PolicyConfig } from '../sample/schema.ts';
import { resolveConfig } from './load-config.ts';
import { COMPONENTS, type RelayConfig, relaySchema } from './relay-schema.ts';

describe('the gathered schema', () => {
  it('has one section per component, each key owned once', () => {
    const keys = COMPONENTS.map((c) => c.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(Object.keys(relaySchema.properties).sort()).toEqual([...keys, 'shutdown_timeout'].sort());
  });

  it('derives the config types from the schemas (checked by the type checker)', () => {
    const config = resolveConfig({ tail_sampling: { policies: [{ name: 'all', type: 'always_sample' }] } });
    // Durations are milliseconds, defaulted keys are present, optional sections may be absent.
    expectTypeOf(config.cluster.forward.retry_on_failure.max_elapsed_time).toEqualTypeOf<number>();
    expectTypeOf(config.exporter.headers).toEqualTypeOf<{ [key: string]: string }>();
    expectTypeOf(config.exporter.compression).toEqualTypeOf<'gzip' | 'zstd' | 'deflate' | 'none' | ''>();
    expectTypeOf(config.log.level).toEqualTypeOf<'debug' | 'info' | 'warn' | 'error'>();
    expectTypeOf<RelayConfig['tail_sampling']>().toEqualTypeOf<
      (NonNullable<RelayConfig['tail_sampling']> & {}) | undefined
    >();
    expectTypeOf<NonNullable<PolicyConfig['latency']>['threshold_ms']>().toEqualTypeOf<number>();
    expectTypeOf<NonNullable<PolicyConfig['string_attribute']>['values']>().toEqualTypeOf<string[]>();
    expect(config.tail_sampling?.decision_wait).toBe(30_000);
    expect(config.cluster.forward.retry_on_failure.max_elapsed_time).toBe(30_000);
  });
});
