import { invalid } from '../../lib/errors.ts';
import type { BeaconAttributes, Scalar } from '../../model/beacon.ts';
import { loadProto } from '../../model/proto-files.ts';

// The binary beacon decodes to the JSON beacon's shape, so one validator and one converter serve both.
const BeaconMessage = loadProto('beacon.proto').lookupType('edgerelay.beacon.v1.Beacon');

const KINDS = ['internal', 'server', 'client', 'producer', 'consumer'];
const STATUSES = ['unset', 'ok', 'error'];

interface ScalarMessage {
  stringValue?: string;
  numberValue?: number;
  boolValue?: boolean;
}
interface AttributeMessage extends ScalarMessage {
  key: string;
  listValue?: { values?: ScalarMessage[] };
}

const scalar = (m: ScalarMessage): Scalar | undefined => m.stringValue ?? m.numberValue ?? m.boolValue;

function attributes(list: AttributeMessage[] | undefined): BeaconAttributes | undefined {
  if (!list || list.length === 0) return undefined;
  // No prototype: a key such as `__proto__` is an attribute like any other, as in a parsed JSON beacon.
  const out: BeaconAttributes = Object.create(null);
  for (const a of list) {
    const value = a.listValue
      ? (a.listValue.values ?? []).map(scalar).filter((v): v is Scalar => v !== undefined)
      : scalar(a);
    if (value !== undefined) out[a.key] = value;
  }
  return out;
}

const hex = (bytes: Uint8Array | undefined): string | undefined =>
  bytes && bytes.length > 0 ? Buffer.from(bytes).toString('hex') : undefined;

interface EventMessage {
  name?: string;
  t?: number;
  attrs?: AttributeMessage[];
}
interface SpanMessage {
  id?: Uint8Array;
  parent?: Uint8Array;
  parentRemote?: boolean;
  name?: string;
  kind?: number;
  start?: number;
  dur?: number;
  status?: number;
  message?: string;
  attrs?: AttributeMessage[];
  droppedAttrs?: number;
  events?: EventMessage[];
}
interface BeaconMessageObject {
  v?: number;
  traceId?: Uint8Array;
  traceState?: string;
  flags?: number;
  ts?: number;
  worker?: unknown;
  edge?: unknown;
  service?: string;
  resource?: AttributeMessage[];
  spans?: SpanMessage[];
  th?: string;
}

/** Decodes an `application/x-protobuf` beacon into the JSON beacon shape, to be validated like any other. */
export function decodeBeaconProto(body: Buffer): unknown {
  let m: BeaconMessageObject;
  try {
    m = BeaconMessage.toObject(BeaconMessage.decode(body), {
      defaults: false,
      longs: Number,
    }) as BeaconMessageObject;
  } catch (err) {
    throw invalid(`body is not a protobuf edgerelay.beacon.v1.Beacon: ${(err as Error).message}`);
  }
  return {
    v: m.v,
    traceId: hex(m.traceId) ?? '',
    traceState: m.traceState,
    flags: m.flags,
    th: m.th || undefined,
    ts: m.ts,
    worker: m.worker,
    edge: m.edge,
    service: m.service,
    resource: attributes(m.resource),
    spans: (m.spans ?? []).map((s) => ({
      id: hex(s.id) ?? '',
      parent: hex(s.parent),
      parentRemote: s.parentRemote || undefined,
      name: s.name,
      kind: KINDS[s.kind ?? 0],
      start: s.start ?? 0,
      dur: s.dur ?? 0,
      status: STATUSES[s.status ?? 0],
      message: s.message,
      attrs: attributes(s.attrs),
      droppedAttrs: s.droppedAttrs || undefined,
      events: s.events?.map((e) => ({ name: e.name, t: e.t ?? 0, attrs: attributes(e.attrs) })),
    })),
  };
}
