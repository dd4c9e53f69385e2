import type { Resource, Scope, Span, SpanRecord } from '../../model/span.ts';
import { spanProblem } from './span-problem.ts';

/** Deepest nesting of array and kvlist attribute values accepted, so hostile input cannot exhaust the stack. */
export const MAX_VALUE_DEPTH = 32;

/** The spans of one export request: those accepted, and how many were rejected and why (the first reason). */
export interface OtlpBatch {
  readonly records: SpanRecord[];
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
  #rejected = 0;
  #problem = '';

  add(span: Span, resource: Resource, scope: Scope, size: number, path: () => string): void {
    const problem = spanProblem(span);
    if (problem === undefined) {
      this.records.push({ span, resource, scope, size });
      return;
    }
    if (this.#rejected === 0) this.#problem = `${path()}: ${problem}`;
    this.#rejected++;
  }

  finish(): OtlpBatch {
    const total = this.records.length + this.#rejected;
    const problem =
      this.#rejected === 0 ? '' : `${this.#rejected} of ${total} spans rejected; first: ${this.#problem}`;
    return { records: this.records, rejected: this.#rejected, problem };
  }
}
