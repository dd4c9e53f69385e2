import type { Resource } from './span.ts';

/**
 * Resource attributes naming the EdgeWorker that sent a span: set by enrichment, counted by version
 * health, matched by the sampler's evidence override. Here, because those stages may not import each other.
 */
export const EDGEWORKER_ID = 'akamai.edgeworker.id';
export const EDGEWORKER_VERSION = 'akamai.edgeworker.version';

/** A resource attribute's value as text (how version health labels it), undefined when absent. */
export function resourceText(resource: Resource, key: string): string | undefined {
  for (const { key: k, value } of resource.attributes) {
    if (k !== key) continue;
    return value.type === 'string'
      ? value.value
      : value.type === 'int' || value.type === 'double'
        ? String(value.value)
        : '';
  }
  return undefined;
}
