// The version judge's verdicts: the contract between detection (src/judge/) and what acts on a verdict
// or shows it (webhook, EdgeWorkers rollback, the /versions page, `edge-relay versions`). Everything here
// is plain JSON data: `GET /v1/versions` on the admin endpoint answers `{ verdicts: Verdict[] }`.
// Method and numbers: docs/version-health.md, "Detection".

/**
 * - `collecting`: the candidate has too few requests (`min_requests`) beside a baseline to be tested yet.
 * - `healthy`: tested, and no comparison shows a regression (final once `max_looks` looks are spent).
 * - `suspect`: some comparison is worse by at least the minimum effect and significant at the nominal
 *   `alpha`, but not at the corrected level: enough to keep evidence (every trace), not to act.
 * - `regressed`: worse by at least the minimum effect and significant at the level corrected for every
 *   look and comparison. Final for that candidate: testing stops.
 */
export type VerdictState = 'collecting' | 'healthy' | 'suspect' | 'regressed';
export const VERDICT_STATES: readonly VerdictState[] = ['collecting', 'healthy', 'suspect', 'regressed'];

/**
 * - `side_by_side`: both versions served traffic in the same windows, and only those windows are compared.
 * - `before_after`: the candidate has taken over; it is compared with the baseline's last windows before
 *   that. Weaker (anything else that changed meanwhile counts as the candidate's doing); the reason says so.
 */
export type JudgeMode = 'side_by_side' | 'before_after';

/** `server_latency`: the EdgeWorker's span (SPAN_KIND_SERVER); `origin_latency`: origin sub-requests (SPAN_KIND_CLIENT). */
export type JudgedMetric = 'error_rate' | 'server_latency' | 'origin_latency';

/** One version's side of a comparison. Error figures are of the metric's span kind (server for error_rate). */
export interface SampleSummary {
  requests: number;
  errors: number;
  /** errors / requests (0 without requests). */
  errorRate: number;
  /** Seconds, interpolated within the histogram's buckets (undefined without requests). */
  p50: number | undefined;
  p95: number | undefined;
  /** The configured `latency_quantile` (p95 by default), as p50 and p95. */
  tail: number | undefined;
}

export interface MetricComparison {
  metric: JudgedMetric;
  /** An `akamai.edge.pop` value, or `*` for all PoPs of this relay together. */
  pop: string;
  baseline: SampleSummary;
  candidate: SampleSummary;
  /**
   * `fisher_exact` (one-sided) for error_rate. Latency has two: `mann_whitney_u` (one-sided,
   * tie-corrected, over the buckets: the whole distribution) and `tail_exceedance_fisher` (the share of
   * requests above the bucket bound nearest the pooled `latency_quantile`, by Fisher's test: the tail).
   */
  test: 'fisher_exact' | 'mann_whitney_u' | 'tail_exceedance_fisher';
  /** Whether both sides had `min_requests`; untested comparisons carry numbers but no statistic. */
  tested: boolean;
  /** z (pooled two-proportion z; for Mann-Whitney the standardised U); positive when the candidate is worse. */
  statistic?: number;
  /** One-sided: the probability of a statistic this large if the candidate were no worse. */
  p_value?: number;
  /** The level p_value is compared with for `regressed` at this look (alpha split over looks and comparisons). */
  level?: number;
  /**
   * error_rate: candidate − baseline error rate (absolute, 0.05 = 5 points). Latency, relative (0.4 = 40%
   * slower): mann_whitney_u, the candidate's median over the baseline's, minus 1; tail_exceedance_fisher, the
   * same of the `latency_quantile` (p95 by default).
   */
  effect: number;
  /** The minimum effect configured for this metric (min_error_rate_increase or min_latency_increase). */
  threshold: number;
  regressed: boolean;
}

/** The judgement of one (EdgeWorker id, candidate version) against its baseline. */
export interface Verdict {
  workerId: string;
  /** The newest version seen for this id (first seen last). */
  candidate: string;
  /** The version that served most traffic before the candidate appeared. */
  baseline: string;
  state: VerdictState;
  mode: JudgeMode;
  /** One sentence for a person: what was compared and why this state (names the weaker mode when used). */
  reason: string;
  /** Epoch ms since which the verdict has been in this state. */
  since: number;
  /** Epoch ms of the last evaluation. */
  evaluatedAt: number;
  /** Epoch ms when the candidate was first seen by this relay. */
  firstSeen: number;
  /** Looks spent (evaluations with at least one tested comparison) and the planned maximum. */
  looks: number;
  maxLooks: number;
  /** Every `*` comparison, and the PoPs' that were tested; the one that decided a regression is first. */
  comparisons: MetricComparison[];
  /** Server-span requests compared, per side. */
  requests: { baseline: number; candidate: number };
}

/**
 * A verdict that changed state (or appeared, with `previous` undefined). `ended` is set when the judge
 * stops tracking the pair: a newer candidate appeared (`superseded`) or the candidate served nothing for
 * the whole history (`expired`); `verdict` then holds the last state, e.g. to send a resolved notice.
 */
export interface VerdictChange {
  verdict: Verdict;
  previous: VerdictState | undefined;
  ended?: 'superseded' | 'expired';
}

/** Called on the main thread, synchronously after the evaluation that made the change; must not throw. */
export type VerdictListener = (change: VerdictChange) => void;

/** What the judge offers in-process (src/judge/version-judge.ts implements it). */
export interface VerdictSource {
  /** The current verdicts, one per (worker id, candidate), in worker id order. */
  verdicts(): Verdict[];
  /** Adds a listener; returns its removal. */
  onChange(listener: VerdictListener): () => void;
}

export const VERDICT_METRIC = 'edge_relay_version_verdict';
