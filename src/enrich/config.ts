import { type ConfigOf, component } from '../lib/component.ts';
import { section } from '../lib/schema-keywords.ts';

/**
 * Edge identity: `pops` maps edge IP ranges to PoP names (first match wins), `default_service_name` is
 * the `service.name` of beacons that carry none, and `pop_cache_size` distinct edge IPs keep their lookup.
 */
export const enrichmentComponent = component({
  key: 'enrichment',
  schema: section({
    pops: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['cidr', 'pop'],
        properties: { cidr: { type: 'string', format: 'cidr' }, pop: { type: 'string', minLength: 1 } },
      },
    },
    default_service_name: { type: 'string', minLength: 1, default: 'edgeworker' },
    pop_cache_size: { type: 'integer', minimum: 1, default: 10000 },
  }),
});
export type EnrichmentConfig = ConfigOf<typeof enrichmentComponent.schema>;
export type PopRange = EnrichmentConfig['pops'][number];
