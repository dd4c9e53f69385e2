import { afterAll, beforeAll } from 'vitest';
import type { Beacon } from '../../src/model/beacon.ts';
import type { Tracer, TracerOptions } from '../src/index.js';
import { HttpStub } from './http-stub.ts';
import type { EdgeServer, PropertyConfig, WorkerModule } from './shim/edge-server.ts';

/** Hostnames of the example setup (docs/edge.md): the site, and the beacon hostname routed to the relay. */
export const SITE = 'www.example.com';
export const BEACONS = 'edge-relay.example.com';

/** The property of docs/edge.md: the state variable, and the AK_ built-ins copied into PMUSER_ variables. */
export function exampleProperty(
  site: string,
  relay: string,
  variables: Record<string, string> = {},
): PropertyConfig {
  return {
    hostnames: { [SITE]: site, [BEACONS]: relay },
    variables: {
      PMUSER_EDGE_TRACE: '',
      PMUSER_EDGE_IP: '203.0.113.7',
      PMUSER_EDGE_REQUEST_ID: '8f2d61a3',
      ...variables,
    },
  };
}

/** Loads the example worker (edge/example/main.js): the EdgeServer calls it once per handler. */
export const loadExample = () => import('../example/main.js');

/**
 * A worker that is only the tracer, with these options (and the example's beacon URL and identity);
 * `extend` may wrap its handlers.
 */
export const tracerOnly =
  (options: Partial<TracerOptions> = {}, extend: (tracer: Tracer) => WorkerModule = (tracer) => tracer) =>
  async (): Promise<WorkerModule> => {
    const { createTracer } = await import('../src/index.js');
    return extend(
      createTracer({ url: `https://${BEACONS}/v1/beacons`, worker: { id: '1', version: '1' }, ...options }),
    );
  };

/** A worker that is only the tracer with signed beacons (edge/src/sign.js), with the example's beacon URL. */
export const signingTracer =
  (worker = { id: '1', version: '1' }) =>
  async (): Promise<WorkerModule> => {
    const { createTracer } = await import('../src/index.js');
    const { signedTracer } = await import('../src/sign.js');
    return signedTracer(createTracer, { url: `https://${BEACONS}/v1/beacons`, worker });
  };

/** The header of the example worker's property marks callers whose traces it continues. */
export const TRUSTED = { 'x-shop-internal': '1' };

/** The beacons the edge server has sent so far, parsed. */
export function beaconsSent(edge: EdgeServer): Beacon[] {
  return edge.subRequests.records
    .filter((r) => r.url.endsWith('/v1/beacons'))
    .map((r) => JSON.parse(r.body) as Beacon);
}

/** Fixed handler start times: client request at T, origin request +3, origin response +40, client response +42. */
export function handlerTimes(t: number) {
  return { onClientRequest: t, onOriginRequest: t + 3, onOriginResponse: t + 40, onClientResponse: t + 42 };
}

/** A stand-in origin (200) and relay (202) for a test file: started before its tests, closed after. */
export function useStubs(): { origin: HttpStub; relay: HttpStub } {
  const stubs = {} as { origin: HttpStub; relay: HttpStub };
  beforeAll(async () => {
    stubs.origin = await HttpStub.start(200);
    stubs.relay = await HttpStub.start(202);
  });
  afterAll(async () => {
    await stubs.origin.close();
    await stubs.relay.close();
  });
  return stubs;
}
