// @ts-check
/**
 * Settings baked into the bundle. build.ts writes this file into the uploaded tarball with the
 * EdgeWorker id, the version from bundle.json and the beacon URL; these values serve local runs and tests.
 * @type {{ url?: string, worker: { id: string, version: string }, service: string, token?: string }}
 */
export const settings = {
  url: 'https://edge-relay.example.com/v1/beacons',
  worker: { id: 'dev', version: '0.0.0-dev' },
  service: 'shop-edge',
};
