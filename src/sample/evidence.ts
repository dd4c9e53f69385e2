import { EDGEWORKER_ID, EDGEWORKER_VERSION, resourceText } from '../model/edgeworker.ts';
import type { Resource, SpanRecord } from '../model/span.ts';
import type { Verdict } from './policies.ts';

/** An EdgeWorker version whose every trace is kept: the judge found it suspect or regressed. */
export interface EvidenceVersion {
  workerId: string;
  version: string;
}

/** The policy name a trace kept as evidence carries (`tailsampling.policy` with record_policy). */
export const EVIDENCE_POLICY = 'version_evidence';
/** Kept for certain: no threshold, so no adjusted count (docs/version-health.md, "Evidence"). */
export const EVIDENCE_VERDICT: Verdict = {
  outcome: 'sampled',
  policy: EVIDENCE_POLICY,
  threshold: undefined,
};

/**
 * The sampler's evidence override: traces with a span from one of these versions are kept even when the
 * policies would not keep them. Asked only when a trace is decided and the list is not empty, so it costs
 * nothing per span, and nothing at all while every version is healthy. An explicit drop policy still wins.
 */
export class Evidence {
  #keys = new Set<string>();
  /** Resources are interned per (worker, edge): each is looked at once per list. */
  #matches = new WeakMap<Resource, boolean>();

  set(versions: readonly EvidenceVersion[]): void {
    this.#keys = new Set(versions.map((v) => `${v.workerId}\u0000${v.version}`));
    this.#matches = new WeakMap();
  }

  /** Whether any version is listed: only then does a trace to be dropped need its spans read for this. */
  get active(): boolean {
    return this.#keys.size > 0;
  }

  /** Whether a trace with these spans is evidence. */
  holds(spans: readonly SpanRecord[]): boolean {
    if (this.#keys.size === 0) return false;
    for (const { resource } of spans) {
      let match = this.#matches.get(resource);
      if (match === undefined) {
        const id = resourceText(resource, EDGEWORKER_ID);
        match =
          id !== undefined &&
          this.#keys.has(`${id}\u0000${resourceText(resource, EDGEWORKER_VERSION) ?? ''}`);
        this.#matches.set(resource, match);
      }
      if (match) return true;
    }
    return false;
  }
}
