import { type Policy, SAMPLED } from './policy.ts';

/** Keeps every trace. */
export const alwaysSample = (name: string): Policy => ({ name, evaluate: () => SAMPLED });
