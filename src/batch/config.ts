import { duration } from '../lib/schema-keywords.ts';

/** The Collector batch processor's settings, applied per worker shard. */
export interface BatchConfig {
  send_batch_size: number;
  /** 0 means no upper bound beyond send_batch_size. */
  send_batch_max_size: number;
  /** Milliseconds after which a non-empty batch is sent regardless of size. */
  timeout: number;
}

export const batchSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    send_batch_size: { type: 'integer', minimum: 1, default: 8192 },
    send_batch_max_size: { type: 'integer', minimum: 0, default: 0 },
    timeout: duration('200ms'),
  },
} as const;
