export interface PopRange {
  cidr: string;
  pop: string;
}

export interface EnrichmentConfig {
  /** Edge IP ranges mapped to PoP names, first match wins. */
  pops: PopRange[];
  /** `service.name` for beacons that do not carry one. */
  default_service_name: string;
  /** Distinct edge IPs whose PoP lookup is remembered. */
  pop_cache_size: number;
}

export const enrichmentSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
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
  },
} as const;
