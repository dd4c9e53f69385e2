import { endpoint } from '../lib/schema-keywords.ts';

export interface AdminConfig {
  /** `host:port` of the server for /metrics, /healthz and /readyz. */
  endpoint: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogConfig {
  level: LogLevel;
}

export const adminSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: { endpoint: endpoint('0.0.0.0:8888') },
} as const;

export const logSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: { level: { enum: ['debug', 'info', 'warn', 'error'], default: 'info' } },
} as const;
