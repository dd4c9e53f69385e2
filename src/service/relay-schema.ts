import { batchSchema } from '../batch/config.ts';
import { enrichmentSchema } from '../enrich/config.ts';
import { debugExporterSchema, exporterSchema } from '../export/config.ts';
import { versionHealthSchema } from '../health/config.ts';
import { duration } from '../lib/schema-keywords.ts';
import { memoryLimiterSchema, receiverSchema } from '../receive/config.ts';
import { clusterSchema } from '../route/config.ts';
import { tailSamplingSchema } from '../sample/config.ts';
import { adminSchema, logSchema } from '../telemetry/config.ts';
import { workersSchema } from '../worker/config.ts';

/** The whole relay configuration: each component's schema (with its defaults) lives beside the component. */
export const relaySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    receiver: receiverSchema,
    admin: adminSchema,
    log: logSchema,
    enrichment: enrichmentSchema,
    workers: workersSchema,
    memory_limiter: memoryLimiterSchema,
    version_health: versionHealthSchema,
    tail_sampling: tailSamplingSchema,
    batch: batchSchema,
    exporter: exporterSchema,
    debug: debugExporterSchema,
    cluster: clusterSchema,
    shutdown_timeout: duration('30s'),
  },
} as const;
