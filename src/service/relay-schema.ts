import { batchComponent } from '../batch/config.ts';
import { enrichmentComponent } from '../enrich/config.ts';
import { debugExporterComponent, exporterComponent } from '../export/config.ts';
import { extensionsComponent } from '../export/file-storage.ts';
import { versionHealthComponent } from '../health/config.ts';
import type { SectionOf } from '../lib/component.ts';
import { duration } from '../lib/schema-keywords.ts';
import { memoryLimiterComponent, receiverComponent } from '../receive/config.ts';
import { clusterComponent } from '../route/config.ts';
import { tailSamplingComponent } from '../sample/config.ts';
import { adminComponent, auditComponent, logComponent } from '../telemetry/config.ts';
import { workersComponent } from '../worker/config.ts';

/** Every configurable component, in the order a span meets them; each owns one top-level section. */
export const COMPONENTS = [
  receiverComponent,
  memoryLimiterComponent,
  workersComponent,
  enrichmentComponent,
  versionHealthComponent,
  clusterComponent,
  tailSamplingComponent,
  batchComponent,
  exporterComponent,
  debugExporterComponent,
  extensionsComponent,
  adminComponent,
  logComponent,
  auditComponent,
] as const;

type Components = (typeof COMPONENTS)[number];
/** Sections with a default are always there once validated; the others (tail_sampling) may be absent. */
type Defaulted = Extract<Components, { schema: { default: unknown } }>;

/** The validated configuration with every default filled in and every duration in milliseconds. */
export type RelayConfig = { [C in Defaulted as C['key']]: SectionOf<C> } & {
  [C in Exclude<Components, Defaulted> as C['key']]?: SectionOf<C>;
} & {
  /** The service's own key: how long draining may take after SIGTERM. */
  shutdown_timeout: number;
};

/** The relay's whole schema, gathered from the components. */
export const relaySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...Object.fromEntries(COMPONENTS.map((c) => [c.key, c.schema])),
    shutdown_timeout: duration('30s'),
  },
};
