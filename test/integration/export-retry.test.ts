import { afterEach, describe, expect, it } from 'vitest';
import { loadProto } from '../../src/model/proto-files.ts';
import { settledAccounting } from '../support/accounting.ts';
import { beaconWithTrace } from '../support/beacons.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';

const Response = loadProto('opentelemetry/proto/collector/trace/v1/trace_service.proto').lookupType(
  'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
);

describe('export retries and refusals', () => {
  let sink: OtlpSink | undefined;
  let relay: RelayProcess | undefined;
  afterEach(async () => {
    await relay?.stop();
    await sink?.close();
  });

  async function start() {
    sink = await OtlpSink.start();
    relay = await RelayProcess.start({
      workers: { threads: 1 },
      batch: { timeout: '10ms' },
      exporter: {
        traces_endpoint: sink.url,
        retry_on_failure: { initial_interval: '20ms', max_interval: '50ms' },
      },
    });
    return { sink, relay };
  }

  it('retries 503 until the backend takes the batch', async () => {
    const { sink, relay } = await start();
    let attempts = 0;
    sink.reply = () => ({ status: ++attempts < 3 ? 503 : 200 });
    const beacon = beaconWithTrace();
    await relay.post('/v1/beacons', JSON.stringify(beacon));
    await waitFor(() => sink.spans().length === 6, 'the retried batch');
    // The sink has the spans before the relay has read its answer: the count follows a moment later.
    await waitFor(
      async () => (await relay.metric('edge_relay_spans_exported_total')) === 6,
      'the export counted',
    );
    expect(attempts).toBe(3);
    expect(await relay.metric('edge_relay_export_requests_total', { outcome: 'retryable_error' })).toBe(2);
  });

  it('never retries a 400, and counts the spans as dropped', async () => {
    const { sink, relay } = await start();
    let attempts = 0;
    sink.reply = () => {
      attempts++;
      return { status: 400 };
    };
    await relay.post('/v1/beacons', JSON.stringify(beaconWithTrace()));
    await waitFor(
      async () =>
        (await relay.metric('edge_relay_spans_dropped_total', { reason: 'rejected_by_backend' })) === 6,
      'the refused spans to be counted',
    );
    expect(attempts).toBe(1);
    expect(await relay.metric('edge_relay_export_requests_total', { outcome: 'permanent_error' })).toBe(1);
  });

  it('keeps a batch refused with 403 (never dropped as final), retrying it until the backend takes it', async () => {
    const { sink, relay } = await start();
    let attempts = 0;
    sink.reply = () => ({ status: ++attempts < 4 ? 403 : 200 });
    await relay.post('/v1/beacons', JSON.stringify(beaconWithTrace()));
    await waitFor(() => sink.spans().length === 6, 'the kept batch');
    expect(await relay.metric('edge_relay_export_requests_total', { outcome: 'unauthorized' })).toBe(3);
    expect(await relay.metric('edge_relay_spans_dropped_total', { reason: 'rejected_by_backend' })).toBe(0);
    const refusals = relay.logLines().filter((l) => l.msg?.toString().startsWith('the backend refused'));
    expect(refusals).toHaveLength(1);
  });

  it('counts partial_success.rejected_spans as dropped and the rest as exported', async () => {
    const { sink, relay } = await start();
    sink.reply = () => ({
      status: 200,
      body: Response.encode(
        Response.fromObject({ partialSuccess: { rejectedSpans: 2, errorMessage: 'two spans too old' } }),
      ).finish(),
    });
    await relay.post('/v1/beacons', JSON.stringify(beaconWithTrace()));
    await waitFor(
      async () =>
        (await relay.metric('edge_relay_export_requests_total', { outcome: 'partial_success' })) === 1,
      'the partial success',
    );
    expect(await relay.metric('edge_relay_spans_exported_total')).toBe(4);
    expect(await relay.metric('edge_relay_spans_dropped_total', { reason: 'rejected_by_backend' })).toBe(2);
  });

  it('clamps a partial_success.rejected_spans beyond the batch or below zero, and counts the lie', async () => {
    const { sink, relay } = await start();
    // The first batch is "rejected" a million times over, the second -5 times: neither may move
    // the exported count below what was delivered or above what was sent.
    const lies = [1_000_000, -5];
    sink.reply = () => ({
      status: 200,
      body: Response.encode(
        Response.fromObject({ partialSuccess: { rejectedSpans: lies.shift() ?? 0, errorMessage: 'lie' } }),
      ).finish(),
    });
    await relay.post('/v1/beacons', JSON.stringify(beaconWithTrace()));
    await waitFor(() => sink.requests.length === 1, 'the first batch');
    await relay.post('/v1/beacons', JSON.stringify(beaconWithTrace()));
    await waitFor(() => sink.requests.length === 2, 'the second batch');
    const accounting = await settledAccounting(relay);
    // All 6 spans of the first batch count as rejected, none of the second.
    expect(accounting.received).toBe(12);
    expect(accounting.exported).toBe(6);
    expect(accounting.dropped.rejected_by_backend).toBe(6);
    expect(await relay.metric('edge_relay_export_partial_success_invalid_total')).toBe(2);
  });
});
