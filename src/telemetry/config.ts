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

/**
 * The audit trail: security-relevant events as hash-chained JSON Lines (docs/operations.md, "Audit trail").
 * `path` is a file (rotated by size, as the Collector's file exporter), `stdout`, or empty for none.
 */
export const auditComponent = component({
  key: 'audit',
  schema: section({
    path: { type: 'string', default: '' },
    rotation: section({
      // The file is rotated before it would grow past this size.
      max_megabytes: { type: 'integer', minimum: 1, default: 100 },
      // Rotated files kept; the oldest beyond this are deleted. 0: keep every one.
      max_backups: { type: 'integer', minimum: 0, default: 10 },
    }),
  }),
});
export type AuditConfig = ConfigOf<typeof auditComponent.schema>;
