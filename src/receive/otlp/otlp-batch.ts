import type { Resource, Scope, Span, SpanRecord } from '../../model/span.ts';
import { spanProblem } from './span-problem.ts';

/** Deepest nesting of array and kvlist attribute values accepted, so hostile input cannot exhaust the stack. */
export const MAX_VALUE_DEPTH = 32;

/** The spans of one export request: those accepted, and how many were rejected and why (the first reason). */
export interface OtlpBatch {
  readonly records: SpanRecord[];
  /** Each record's Span message as received (protobuf requests only), index for index. */
  readonly spanBytes: Uint8Array[] | undefined;
  readonly rejected: number;
  /** Names the first rejected span and its problem; empty when nothing was rejected. */
  readonly problem: string;
}

/**
 * Collects decoded spans into an OtlpBatch, checking each one: a span with unusable ids is rejected
 * alone (OTLP partial success), the rest of the request goes on.
 */
export class OtlpBatchBuilder {
  readonly records: SpanRecord[] = [];
  readonly #spanBytes: Uint8Array[] = [];
  #rejected = 0;
  #problem = '';

  add(
    span: Span,
    resource: Resource,
    scope: Scope,
    size: number,
    path: () => string,
    bytes?: Uint8Array,
  ): void {
    const problem = spanProblem(span);
    if (problem === undefined) {
      this.records.push({ span, resource, scope, size });
      if (bytes) this.#spanBytes.push(bytes);
      return;
    }
    if (this.#rejected === 0) this.#problem = `${path()}: ${problem}`;
    this.#rejected++;
  }

  finish(): OtlpBatch {
    const total = this.records.length + this.#rejected;
    const problem =
      this.#rejected === 0 ? '' : `${this.#rejected} of ${total} spans rejected; first: ${this.#problem}`;
    const spanBytes = this.#spanBytes.length > 0 ? this.#spanBytes : undefined;
    return { records: this.records, spanBytes, rejected: this.#rejected, problem };
  }
}
