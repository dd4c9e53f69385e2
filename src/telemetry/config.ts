import { type ConfigOf, component } from '../lib/component.ts';
import { endpoint, section } from '../lib/schema-keywords.ts';

/** The admin server: `endpoint` is the `host:port` of /metrics, /healthz and /readyz. */
export const adminComponent = component({
  key: 'admin',
  schema: section({ endpoint: endpoint('0.0.0.0:8888') }),
});
export type AdminConfig = ConfigOf<typeof adminComponent.schema>;

export const logComponent = component({
  key: 'log',
  schema: section({ level: { enum: ['debug', 'info', 'warn', 'error'], default: 'info' } }),
});
export type LogConfig = ConfigOf<typeof logComponent.schema>;
export type LogLevel = LogConfig['level'];
