import { type ConfigOf, component } from '../lib/component.ts';
import { duration, section } from '../lib/schema-keywords.ts';

/** The Collector batch processor's settings, applied per worker shard. */
export const batchComponent = component({
  key: 'batch',
  schema: section({
    send_batch_size: { type: 'integer', minimum: 1, default: 8192 },
    // 0: no upper bound beyond send_batch_size.
    send_batch_max_size: { type: 'integer', minimum: 0, default: 0 },
    // A non-empty batch is sent this long after its first span, whatever its size.
    timeout: duration('200ms'),
  }),
});
export type BatchConfig = ConfigOf<typeof batchComponent.schema>;
