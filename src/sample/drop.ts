import { and } from './and.ts';
import { DROPPED, NOT_SAMPLED, type Policy } from './policy.ts';

/** Drops a trace when all its sub-policies sample it; the sampler evaluates drop policies first and they win. */
export function drop(name: string, subs: readonly Policy[]): Policy {
  const all = and(name, subs);
  return { name, evaluate: (trace) => (all.evaluate(trace).kind === 'sampled' ? DROPPED : NOT_SAMPLED) };
}
