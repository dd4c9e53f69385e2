import {
  type Attributes,
  type HrTime,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { IdGenerator } from '@opentelemetry/sdk-trace';
import type { Beacon } from '../../src/model/beacon.ts';

// A beacon's spans re-created as OpenTelemetry SDK spans, with the beacon's own ids and times: what a
// user relaying beacons through the SDK would write.

const KINDS: Record<string, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};
const STATUS: Record<string, SpanStatusCode> = {
  unset: SpanStatusCode.UNSET,
  ok: SpanStatusCode.OK,
  error: SpanStatusCode.ERROR,
};

/** Hands the SDK the ids the beacon already has, so spans keep their identity through the relay. */
export class BeaconIds implements IdGenerator {
  traceId = '';
  spanId = '';
  generateTraceId(): string {
    return this.traceId;
  }
  generateSpanId(): string {
    return this.spanId;
  }
}

const hrTime = (ms: number): HrTime => {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
};

/** Starts and ends one SDK span per beacon span, each with `extra` attributes besides its own. */
export function recordBeacon(tracer: Tracer, ids: BeaconIds, beacon: Beacon, extra: Attributes): void {
  ids.traceId = beacon.traceId;
  for (const s of beacon.spans) {
    ids.spanId = s.id;
    const parent = s.parent
      ? trace.setSpanContext(ROOT_CONTEXT, {
          traceId: beacon.traceId,
          spanId: s.parent,
          traceFlags: beacon.flags ?? 1,
          isRemote: true,
        })
      : ROOT_CONTEXT;
    const span = tracer.startSpan(
      s.name,
      {
        kind: KINDS[s.kind ?? 'internal'],
        startTime: hrTime(beacon.ts + s.start),
        attributes: { ...(s.attrs as Attributes | undefined), ...extra },
      },
      parent,
    );
    for (const event of s.events ?? []) {
      span.addEvent(event.name, event.attrs as Attributes | undefined, hrTime(beacon.ts + event.t));
    }
    if (s.status) span.setStatus({ code: STATUS[s.status] ?? SpanStatusCode.UNSET, message: s.message });
    span.end(hrTime(beacon.ts + s.start + s.dur));
  }
}
