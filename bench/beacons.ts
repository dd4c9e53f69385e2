import { randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';

// Every contender gets the same beacons: docs/beacon.md's example (test/fixtures/beacon.json), each with
// a fresh random trace id. The example carries an error span, so sent as-is an error policy would keep
// every trace; the mix below keeps the example's shape and makes errors and slow traces a minority.

const FIXTURE = new URL('../test/fixtures/beacon.json', import.meta.url);
const PLACEHOLDER = '0'.repeat(32);

export type TraceKind = 'ok' | 'error' | 'slow';

/** Which kind the i-th beacon is: 2% carry an error span, 2% take 1.5 s, the rest neither. */
export function traceKindOf(i: number): TraceKind {
  const slot = i % 50;
  if (slot === 0) return 'error';
  if (slot === 25) return 'slow';
  return 'ok';
}

interface BeaconSpan {
  dur: number;
  status?: string;
  message?: string;
  attrs?: Record<string, unknown>;
}

function beaconOf(kind: TraceKind): Record<string, unknown> {
  const beacon = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { traceId: string; spans: BeaconSpan[] };
  beacon.traceId = PLACEHOLDER;
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

interface Template {
  body: Buffer;
  traceIdAt: number;
}

function templateOf(kind: TraceKind): Template {
  const body = Buffer.from(JSON.stringify(beaconOf(kind)));
  return { body, traceIdAt: body.indexOf(PLACEHOLDER) };
}

/** Produces beacon bodies with unique random trace ids (random in the low bits, as sampling expects). */
export class BeaconFactory {
  readonly spansPerBeacon: number;
  readonly #templates: Record<TraceKind, Template>;
  readonly #random = Buffer.alloc(64 * 1024);
  #randomAt = this.#random.length;
  #count = 0;

  constructor() {
    this.#templates = { ok: templateOf('ok'), error: templateOf('error'), slow: templateOf('slow') };
    this.spansPerBeacon = (beaconOf('ok').spans as unknown[]).length;
  }

  /** Beacons produced so far. */
  get count(): number {
    return this.#count;
  }

  next(): Buffer {
    const template = this.#templates[traceKindOf(this.#count++)];
    const body = Buffer.allocUnsafe(template.body.length);
    template.body.copy(body);
    body.write(this.#traceId(), template.traceIdAt, 'latin1');
    return body;
  }

  #traceId(): string {
    if (this.#randomAt + 16 > this.#random.length) {
      randomFillSync(this.#random);
      this.#randomAt = 0;
    }
    this.#randomAt += 16;
    return this.#random.toString('hex', this.#randomAt - 16, this.#randomAt);
  }
}
