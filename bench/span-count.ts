// Counts the spans in an ExportTraceServiceRequest by walking protobuf tags, without decoding any span:
// resource_spans (1) → scope_spans (2) → spans (2). Cheap enough that the bench sink does not steal the
// relay's CPU, and honest: only spans actually present in the delivered bytes are counted.

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

function readVarint(buf: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const byte = buf[i] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, i + 1];
    scale *= 128;
  }
  throw new Error(`truncated varint at byte ${at}`);
}

/** Calls `onField` for every length-delimited field of the message in buf[start, end). */
function forEachLenField(
  buf: Uint8Array,
  start: number,
  end: number,
  onField: (field: number, from: number, to: number) => void,
): void {
  let at = start;
  while (at < end) {
    const [key, afterKey] = readVarint(buf, at);
    const field = Math.floor(key / 8);
    switch (key & 7) {
      case VARINT:
        at = readVarint(buf, afterKey)[1];
        break;
      case FIXED64:
        at = afterKey + 8;
        break;
      case FIXED32:
        at = afterKey + 4;
        break;
      case LEN: {
        const [length, from] = readVarint(buf, afterKey);
        at = from + length;
        if (at > end) throw new Error(`field ${field} overruns its message`);
        onField(field, from, at);
        break;
      }
      default:
        throw new Error(`unsupported wire type ${key & 7} at byte ${at}`);
    }
  }
  if (at !== end) throw new Error('message ends inside a field');
}

export function countOtlpSpans(body: Uint8Array): number {
  let spans = 0;
  forEachLenField(body, 0, body.length, (field, from, to) => {
    if (field !== 1) return;
    forEachLenField(body, from, to, (rsField, rsFrom, rsTo) => {
      if (rsField !== 2) return;
      forEachLenField(body, rsFrom, rsTo, (ssField) => {
        if (ssField === 2) spans++;
      });
    });
  });
  return spans;
}
