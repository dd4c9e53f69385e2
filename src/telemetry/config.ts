import { type ConfigOf, component } from '../lib/component.ts';
import { endpoint } from '../lib/schema-keywords.ts';

/** The admin server: `endpoint` is the `host:port` of /metrics, /healthz and /readyz. */
export const adminComponent = component({
  key: 'admin',
  schema: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: { endpoint: endpoint('0.0.0.0:8888') },
  },
});
export type AdminConfig = ConfigOf<typeof adminComponent.schema>;

export const logComponent = component({
  key: 'log',
  schema: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: { level: { enum: ['debug', 'info', 'warn', 'error'], default: 'info' } },
  },
});
export type LogConfig = ConfigOf<typeof logComponent.schema>;
export type LogLevel = LogConfig['level'];
