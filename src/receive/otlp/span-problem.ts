import type { Span } from '../../model/span.ts';

const TRACE_ID_HEX = 32;
const SPAN_ID_HEX = 16;

const isZero = (hex: string): boolean => /^0*$/.test(hex);

function idProblem(what: string, hex: string, length: number): string | undefined {
  if (hex.length !== length || !/^[0-9a-f]*$/.test(hex))
    return `${what} must be ${length / 2} bytes (${length} hex digits), got "${hex}"`;
  if (isZero(hex)) return `${what} must not be all zeros`;
  return undefined;
}

/**
 * Why a span cannot be relayed, or undefined when it can: its ids must be valid (W3C trace context),
 * since the trace id decides its shard and a backend drops spans it cannot place.
 */
export function spanProblem(span: Span): string | undefined {
  const problem =
    idProblem('trace_id', span.traceId, TRACE_ID_HEX) ??
    idProblem('span_id', span.spanId, SPAN_ID_HEX) ??
    (span.parentSpanId === '' ? undefined : idProblem('parent_span_id', span.parentSpanId, SPAN_ID_HEX));
  if (problem !== undefined) return problem;
  for (const [i, link] of span.links.entries()) {
    const linkProblem =
      idProblem('trace_id', link.traceId, TRACE_ID_HEX) ?? idProblem('span_id', link.spanId, SPAN_ID_HEX);
    if (linkProblem !== undefined) return `links[${i}].${linkProblem}`;
  }
  return undefined;
}
