import { LRUCache } from 'lru-cache';
import type { KeyValue, Resource, SpanRecord } from '../model/span.ts';
import type { EnrichmentConfig } from './config.ts';
import { EDGE_IP, EDGE_POP } from './edge-resource.ts';
import { popLookup, UNKNOWN_POP } from './pop-lookup.ts';

const stringAttribute = (resource: Resource, key: string): string | undefined => {
  const value = resource.attributes.find((a) => a.key === key)?.value;
  return value?.type === 'string' ? value.value : undefined;
};

/** The edge attributes an OTLP resource gets, if any (see otlpResources). */
function edgeAttributes(resource: Resource, peerIp: string, popOf: (ip: string) => string): KeyValue[] {
  if (stringAttribute(resource, EDGE_POP) !== undefined) return [];
  const edgeIp = stringAttribute(resource, EDGE_IP);
  if (edgeIp !== undefined) return [{ key: EDGE_POP, value: { type: 'string', value: popOf(edgeIp) } }];
  const pop = popOf(peerIp);
  if (pop === UNKNOWN_POP) return [];
  return [
    { key: EDGE_IP, value: { type: 'string', value: peerIp } },
    { key: EDGE_POP, value: { type: 'string', value: pop } },
  ];
}

/**
 * Enrichment of OTLP resources, which mostly come from origin services and must not be stamped with an
 * edge identity they do not have. Only two cases get edge attributes:
 * - the resource names its edge (`akamai.edge.ip`) but not its PoP: the PoP is looked up;
 * - the resource names no edge and the peer address is inside a configured PoP range (an edge, or a
 *   relay on an edge, sending OTLP): `akamai.edge.ip` and `akamai.edge.pop` are set from the peer.
 * With `identityAttribute` set, every resource also gets that attribute from the sender's credential
 * (and loses one the sender wrote itself, which would claim an identity nobody checked).
 * Anything else passes unchanged. Enriched resources are interned like beacon resources.
 */
function otlpResources(
  config: EnrichmentConfig,
  identityAttribute: string,
): (resource: Resource, peerIp: string, identity: string) => Resource {
  const popOf = popLookup(config.pops, config.pop_cache_size);
  const interned = new LRUCache<string, Resource>({ max: config.pop_cache_size });
  return (resource, peerIp, identity) => {
    const added = edgeAttributes(resource, peerIp, popOf);
    if (identity !== '') added.push({ key: identityAttribute, value: { type: 'string', value: identity } });
    const claimed = identityAttribute !== '' && resource.attributes.some((a) => a.key === identityAttribute);
    if (added.length === 0 && !claimed) return resource;
    const values = added.map((a) => `${a.key}=${a.value.type === 'string' ? a.value.value : ''}`);
    const key = `${resource.key}\n${values.join('\n')}`;
    let enriched = interned.get(key);
    if (!enriched) {
      const own = claimed
        ? resource.attributes.filter((a) => a.key !== identityAttribute)
        : resource.attributes;
      enriched = { ...resource, attributes: [...own, ...added], key };
      interned.set(key, enriched);
    }
    return enriched;
  };
}

/** Enriches the resources of one OTLP request's records (sent by `peerIp`, as `identity`) in place. */
export function otlpEnrichment(
  config: EnrichmentConfig,
  identityAttribute = '',
): (records: SpanRecord[], peerIp: string, identity?: string) => void {
  const resourceOf = otlpResources(config, identityAttribute);
  return (records, peerIp, identity = '') => {
    // Records of one resource share its object: each is enriched once per request.
    const enriched = new Map<Resource, Resource>();
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as SpanRecord;
      let resource = enriched.get(record.resource);
      if (!resource) {
        resource = resourceOf(record.resource, peerIp, identity);
        enriched.set(record.resource, resource);
      }
      if (resource !== record.resource) records[i] = { ...record, resource };
    }
  };
}
