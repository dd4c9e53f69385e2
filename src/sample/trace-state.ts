import { type Policy, sampledIf } from './policy.ts';
import type { TraceStateConfig } from './schema.ts';

/** The value of one list member of a W3C tracestate header, or undefined. */
export function traceStateValue(traceState: string, key: string): string | undefined {
  for (const member of traceState.split(',')) {
    const eq = member.indexOf('=');
    if (eq > 0 && member.slice(0, eq).trim() === key) return member.slice(eq + 1).trim();
  }
  return undefined;
}

/** Keeps traces with a span whose tracestate has `key` set to one of the values. */
export function traceState(name: string, config: TraceStateConfig): Policy {
  const values = new Set(config.values);
  return {
    name,
    evaluate(trace) {
      return sampledIf(
        trace.spans.some(({ span }) => {
          const value = traceStateValue(span.traceState, config.key);
          return value !== undefined && values.has(value);
        }),
      );
    },
  };
}
