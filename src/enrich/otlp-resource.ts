import { LRUCache } from 'lru-cache';
import type { KeyValue, Resource, SpanRecord } from '../model/span.ts';
import type { EnrichmentConfig } from './config.ts';
import { EDGE_IP, EDGE_POP } from './edge-resource.ts';
import { popLookup, UNKNOWN_POP } from './pop-lookup.ts';

const stringAttribute = (resource: Resource, key: string): string | undefined => {
  const value = resource.attributes.find((a) => a.key === key)?.value;
  return value?.type === 'string' ? value.value : undefined;
};

/**
 * Enrichment of OTLP resources, which mostly come from origin services and must not be stamped with an
 * edge identity they do not have. Only two cases are enriched:
 * - the resource names its edge (`akamai.edge.ip`) but not its PoP: the PoP is looked up;
 * - the resource names no edge and the peer address is inside a configured PoP range (an edge, or a
 *   relay on an edge, sending OTLP): `akamai.edge.ip` and `akamai.edge.pop` are set from the peer.
 * Anything else passes unchanged. Enriched resources are interned like beacon resources.
 */
function otlpResources(config: EnrichmentConfig): (resource: Resource, peerIp: string) => Resource {
  const popOf = popLookup(config.pops, config.pop_cache_size);
  const interned = new LRUCache<string, Resource>({ max: config.pop_cache_size });
  return (resource, peerIp) => {
    const edgeIp = stringAttribute(resource, EDGE_IP);
    if (stringAttribute(resource, EDGE_POP) !== undefined) return resource;
    let added: KeyValue[];
    if (edgeIp !== undefined) added = [{ key: EDGE_POP, value: { type: 'string', value: popOf(edgeIp) } }];
    else {
      const pop = popOf(peerIp);
      if (pop === UNKNOWN_POP) return resource;
      added = [
        { key: EDGE_IP, value: { type: 'string', value: peerIp } },
        { key: EDGE_POP, value: { type: 'string', value: pop } },
      ];
    }
    const key = `${resource.key}\n${added.map((a) => (a.value.type === 'string' ? a.value.value : '')).join('\n')}`;
    let enriched = interned.get(key);
    if (!enriched) {
      enriched = { ...resource, attributes: [...resource.attributes, ...added], key };
      interned.set(key, enriched);
    }
    return enriched;
  };
}

/** Enriches the resources of one OTLP request's records (sent by `peerIp`) in place. */
export function otlpEnrichment(config: EnrichmentConfig): (records: SpanRecord[], peerIp: string) => void {
  const resourceOf = otlpResources(config);
  return (records, peerIp) => {
    // Records of one resource share its object: each is enriched once per request.
    const enriched = new Map<Resource, Resource>();
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as SpanRecord;
      let resource = enriched.get(record.resource);
      if (!resource) {
        resource = resourceOf(record.resource, peerIp);
        enriched.set(record.resource, resource);
      }
      if (resource !== record.resource) records[i] = { ...record, resource };
    }
  };
}
