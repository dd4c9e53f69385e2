import { LRUCache } from 'lru-cache';
import type { Beacon } from '../model/beacon.ts';
import { EDGEWORKER_ID, EDGEWORKER_VERSION } from '../model/edgeworker.ts';
import type { KeyValue, Resource } from '../model/span.ts';
import { attributesOf } from './beacon-attributes.ts';
import type { EnrichmentConfig } from './config.ts';
import { popLookup } from './pop-lookup.ts';

/** Resource attribute names the relay sets (OpenTelemetry semantic conventions, `akamai.*` for the edge). */
export const EDGE_IP = 'akamai.edge.ip';
export const EDGE_POP = 'akamai.edge.pop';
export const SERVICE_NAME = 'service.name';
export { EDGEWORKER_ID, EDGEWORKER_VERSION };

/**
 * Builds the Resource of a beacon's spans: its own resource attributes, then the edge identity
 * (beacon values first, else the peer address and the PoP table), which beacons cannot override.
 * With `identityAttribute` set, that attribute names the credential the beacon came with (the sender's
 * identity), and is never taken from the beacon itself: sampling policies can trust it.
 * Beacons from one worker on one edge share a resource; resources are interned so that they are
 * built once and grouped into one ResourceSpans on export.
 */
export function edgeResources(
  config: EnrichmentConfig,
  identityAttribute = '',
): (beacon: Beacon, peerIp: string, identity?: string) => Resource {
  const popOf = popLookup(config.pops, config.pop_cache_size);
  const interned = new LRUCache<string, Resource>({ max: config.pop_cache_size });
  return (beacon, peerIp, identity = '') => {
    const ip = beacon.edge?.ip ?? peerIp;
    const pop = beacon.edge?.pop ?? popOf(ip);
    const service = beacon.service ?? config.default_service_name;
    const extra = beacon.resource ? JSON.stringify(beacon.resource) : '';
    const sender = identityAttribute === '' ? '' : `\n${identity}`;
    const key = `${service}\n${beacon.worker.id}\n${beacon.worker.version}\n${ip}\n${pop}\n${extra}${sender}`;
    let resource = interned.get(key);
    if (!resource) {
      const own: Record<string, string> = {
        [SERVICE_NAME]: service,
        [EDGE_IP]: ip,
        [EDGE_POP]: pop,
        [EDGEWORKER_ID]: beacon.worker.id,
        [EDGEWORKER_VERSION]: beacon.worker.version,
      };
      if (identity !== '') own[identityAttribute] = identity;
      const attributes: KeyValue[] = attributesOf(beacon.resource).filter(
        (a) => !(a.key in own) && a.key !== identityAttribute,
      );
      for (const [k, v] of Object.entries(own))
        attributes.push({ key: k, value: { type: 'string', value: v } });
      resource = { attributes, droppedAttributesCount: 0, schemaUrl: '', key };
      interned.set(key, resource);
    }
    return resource;
  };
}
