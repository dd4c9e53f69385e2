import { describe, expect, it } from 'vitest';
import { beaconToSpans } from '../enrich/beacon-to-spans.ts';
import { edgeResources } from '../enrich/edge-resource.ts';
import type { Beacon } from '../model/beacon.ts';
import { resolveConfig } from '../service/load-config.ts';
import { OtlpEncoder } from './otlp-encoder.ts';

describe('OtlpEncoder', () => {
  it('writes lone surrogates as U+FFFD so the request stays valid UTF-8 for the backend', () => {
    const beacon: Beacon = {
      v: 1,
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      ts: 1,
      worker: { id: 'w', version: '1' },
      spans: [{ id: '00f067aa0ba902b7', name: 'bad \ud800 name', start: 0, dur: 1, attrs: { k: 'v\udfff' } }],
    };
    const resource = edgeResources(resolveConfig({}).enrichment)(beacon, '203.0.113.7');
    const bytes = Buffer.from(new OtlpEncoder().encode(beaconToSpans(beacon, resource)));
    expect(bytes.includes(Buffer.from('bad \ufffd name'))).toBe(true);
    expect(bytes.includes(Buffer.from('v\ufffd'))).toBe(true);
    expect(bytes.includes(Buffer.from([0xed, 0xa0, 0x80]))).toBe(false);
  });
});
