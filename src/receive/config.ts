import { endpoint } from '../config/schema-keywords.ts';

export interface ReceiverConfig {
  /** `host:port` the ingest server listens on. */
  endpoint: string;
  auth: { tokens: string[] };
  /** CIDRs of proxies whose X-Forwarded-For is believed. */
  trusted_proxies: string[];
  /** Largest request body accepted, in bytes, after decompression. */
  max_request_body_size: number;
}

export const receiverSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    endpoint: endpoint('0.0.0.0:4318'),
    auth: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        tokens: { type: 'array', items: { type: 'string', minLength: 16 }, default: [] },
      },
    },
    trusted_proxies: { type: 'array', items: { type: 'string', format: 'cidr' }, default: [] },
    max_request_body_size: { type: 'integer', minimum: 1024, maximum: 67108864, default: 1048576 },
  },
} as const;
