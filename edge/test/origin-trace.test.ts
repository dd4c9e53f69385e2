import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { OtlpSink } from '../../test/helpers/otlp-sink.ts';
import { RelayProcess } from '../../test/helpers/relay-process.ts';
import { waitFor } from '../../test/helpers/wait-for.ts';
import { beaconsSent, exampleProperty, loadExample, SITE } from './edge-fixture.ts';
import { OtelOrigin } from './otel-origin.ts';
import { EdgeServer } from './shim/edge-server.ts';

vi.mock('http-request', () => import('./shim/http-request.ts'));

/**
 * Where the origin's SDK sends OTLP. The relay's POST /v1/traces is not on this branch yet, so the
 * origin exports straight to the sink the relay exports to; once the receiver is merged this becomes
 * `${relay.url}/v1/traces` and the test proves the relay joins both halves into one trace.
 */
const originOtlpUrl = (sink: OtlpSink, _relay: RelayProcess) => sink.url;

describe('edge trace continued by an OpenTelemetry SDK origin [origin OTLP goes to the sink until the relay has POST /v1/traces]', () => {
  let sink: OtlpSink;
  let relay: RelayProcess;
  let origin: OtelOrigin;

  beforeAll(async () => {
    sink = await OtlpSink.start();
    relay = await RelayProcess.start({
      exporter: { traces_endpoint: sink.url, compression: 'none', retry_on_failure: { enabled: false } },
      batch: { timeout: '10ms' },
    });
    origin = await OtelOrigin.start(originOtlpUrl(sink, relay));
  });
  afterAll(async () => {
    await origin?.close();
    await relay?.stop();
    await sink?.close();
  });

  test('arrives as one trace: the origin span is the child of the edge forward span, even from an unsampled caller', async () => {
    const edge = new EdgeServer(loadExample, exampleProperty(origin.url, relay.url));
    const exchange = await edge.handle({
      url: `https://${SITE}/product/1234`,
      // The caller did not sample; the edge marks the forward sampled so the origin records (docs/edge.md).
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' },
    });
    await edge.settled();
    await origin.provider.forceFlush();
    expect(exchange.status).toBe(200);
    const traceId = beaconsSent(edge)[0]?.traceId;
    expect(traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');

    const spans = await waitFor(() => {
      const found = sink.spans().filter((s) => s.traceId === traceId);
      return found.length >= 3 && found;
    }, 'the edge and origin spans at the sink');
    const edgeSpan = (kind: number) =>
      spans.find((s) => s.resource['service.name'] === 'shop-edge' && s.kind === kind);
    const [root, forward] = [edgeSpan(2), edgeSpan(3)];
    const served = spans.find((s) => s.resource['service.name'] === 'shop-origin');
    expect(spans).toHaveLength(3);
    expect(root?.parentSpanId).toBe('00f067aa0ba902b7');
    expect(forward?.parentSpanId).toBe(root?.spanId);
    expect(served?.parentSpanId).toBe(forward?.spanId);
    expect((served?.flags ?? 0) & 1).toBe(1);
  });
});
