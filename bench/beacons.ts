import { randomFillSync } from 'node:crypto';
import type { Beacon } from '../src/model/beacon.ts';
import { docsBeacon } from '../test/support/docs-beacon.ts';

// Every contender gets the same beacons: docs/beacon.md's example (its first json block), each with
// fresh random trace and span ids and a current time base, so that compression sees what it would in
// production rather than one beacon repeated. The example carries an error span, so sent as-is an error
// policy would keep every trace; the mix below keeps the example's shape and makes errors and slow
// traces a minority.

/** A fixed-width stand-in for `ts` (epoch ms with three decimals: 17 characters until the year 2286). */
const TS_PLACEHOLDER = 1111111111111.111;

export type TraceKind = 'ok' | 'error' | 'slow';

/** Which kind the i-th beacon is: 2% carry an error span, 2% take 1.5 s, the rest neither. */
export function traceKindOf(i: number): TraceKind {
  const slot = i % 50;
  if (slot === 0) return 'error';
  if (slot === 25) return 'slow';
  return 'ok';
}

function beaconOf(kind: TraceKind): Beacon {
  const beacon = docsBeacon();
  beacon.ts = TS_PLACEHOLDER;
  if (kind !== 'error') {
    for (const span of beacon.spans) {
      delete span.status;
      delete span.message;
      delete span.attrs?.['error.type'];
    }
  }
  if (kind === 'slow' && beacon.spans[0]) beacon.spans[0].dur = 1500;
  return beacon;
}

/** Where in a beacon body each id (the trace id, each span id with its parent references) is written. */
interface Template {
  body: Buffer;
  tsAt: number;
  ids: { hexLength: number; offsets: number[] }[];
}

function offsetsOf(text: string, needle: string): number[] {
  const offsets: number[] = [];
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) offsets.push(at);
  return offsets;
}

function templateOf(kind: TraceKind): Template {
  const beacon = beaconOf(kind);
  const text = JSON.stringify(beacon);
  const tsAt = text.indexOf(String(TS_PLACEHOLDER));
  if (tsAt < 0) throw new Error('ts placeholder not found in the beacon text');
  const ids = [beacon.traceId, ...beacon.spans.map((s) => s.id)].map((id) => ({
    hexLength: id.length,
    offsets: offsetsOf(text, `"${id}"`).map((at) => at + 1),
  }));
  return { body: Buffer.from(text, 'latin1'), tsAt, ids };
}

/** Produces beacon bodies with unique random ids (random in the low bits, as sampling expects). */
export class BeaconFactory {
  readonly spansPerBeacon: number;
  readonly #templates: Record<TraceKind, Template>;
  readonly #random = Buffer.alloc(64 * 1024);
  #randomAt = this.#random.length;
  #count = 0;

  constructor() {
    this.#templates = { ok: templateOf('ok'), error: templateOf('error'), slow: templateOf('slow') };
    this.spansPerBeacon = beaconOf('ok').spans.length;
  }

  next(): Buffer {
    const template = this.#templates[traceKindOf(this.#count)];
    const body = Buffer.allocUnsafe(template.body.length);
    template.body.copy(body);
    body.write(`${Date.now()}.${String(this.#count % 1000).padStart(3, '0')}`, template.tsAt, 'latin1');
    for (const id of template.ids) {
      const hex = this.#randomHex(id.hexLength / 2);
      for (const at of id.offsets) body.write(hex, at, 'latin1');
    }
    this.#count++;
    return body;
  }

  #randomHex(bytes: number): string {
    if (this.#randomAt + bytes > this.#random.length) {
      randomFillSync(this.#random);
      this.#randomAt = 0;
    }
    this.#randomAt += bytes;
    return this.#random.toString('hex', this.#randomAt - bytes, this.#randomAt);
  }
}
