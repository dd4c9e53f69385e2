import { component } from '../lib/component.ts';
import { withPolicyNames } from './policy-path.ts';
import { type TailSamplingConfig, tailSamplingSchema } from './schema.ts';
import { checkTailSampling } from './validate-sampling.ts';

/**
 * The `tail_sampling` block: the OpenTelemetry Collector tail_sampling processor's schema, so a Collector
 * policy list pastes unchanged (docs/sampling.md). Absent: every span is kept.
 */
export const tailSamplingComponent = component({
  key: 'tail_sampling',
  schema: tailSamplingSchema,
  check: (section: TailSamplingConfig) => checkTailSampling(section),
  explain: withPolicyNames,
});
