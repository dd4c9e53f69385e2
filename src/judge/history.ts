import type { MergedSeries } from '../health/merged-health.ts';
import { REQUESTS } from '../health/snapshot.ts';

// The judge's memory: per EdgeWorker id and version, the growth of the merged series in each window
// (one window per look), summed over span names and dimensions, kept per PoP and span kind. The merged
// series are cumulative since start; comparing versions over the same minutes needs differences.

export const SERVER = 0;
export const CLIENT = 1;
const KINDS: Readonly<Record<string, number>> = { SPAN_KIND_SERVER: SERVER, SPAN_KIND_CLIENT: CLIENT };

/** Label positions in a merged series (health/config.ts FIXED_DIMENSIONS). */
const ID = 0;
const VERSION = 1;
const POP = 2;
const KIND = 4;

/** Per PoP: the flat values (health/snapshot.ts layout) of server spans, and of client spans. */
export type Counts = Map<string, [Float64Array, Float64Array]>;

export interface Window {
  /** Which look closed it (0, 1, …): versions' windows with the same index cover the same time. */
  readonly index: number;
  readonly counts: Counts;
}

export interface VersionHistory {
  readonly version: string;
  /** The window it first had traffic in, and epoch ms of that window's end. */
  readonly firstWindow: number;
  readonly firstSeen: number;
  lastWindow: number;
  /** Server requests over every window since it was first seen (chooses the baseline). */
  served: number;
  /** Its last windows with traffic, oldest first, at most the history's length. */
  readonly windows: Window[];
}

/** Adds `from` into `into`, value by value. */
export function addValues(into: Float64Array, from: ArrayLike<number>): void {
  for (let v = 0; v < into.length; v++) into[v] = (into[v] as number) + (from[v] as number);
}

/** The entry of one PoP in counts, created empty. */
export function countsAt(counts: Counts, pop: string, stride: number): [Float64Array, Float64Array] {
  let entry = counts.get(pop);
  if (!entry) {
    entry = [new Float64Array(stride), new Float64Array(stride)];
    counts.set(pop, entry);
  }
  return entry;
}

/**
 * Bounded: at most `maxWindows` windows per version and `maxVersions` versions per worker id (the least
 * recently seen unprotected one is let go for a new one), and each window holds only the PoPs and kinds
 * that had traffic. Every (id, version, PoP, kind) is at least one merged series, so the whole is at
 * most the cardinality limit × windows × values per series.
 */
export class JudgeHistory {
  readonly #stride: number;
  readonly #maxWindows: number;
  readonly #maxVersions: number;
  /** Each merged series' values when the last window closed. */
  readonly #last = new WeakMap<MergedSeries, Float64Array>();
  readonly #workers = new Map<string, Map<string, VersionHistory>>();
  #index = -1;

  constructor(stride: number, maxWindows: number, maxVersions: number) {
    this.#stride = stride;
    this.#maxWindows = maxWindows;
    this.#maxVersions = maxVersions;
  }

  /** The index of the last window closed. */
  get index(): number {
    return this.#index;
  }

  get workers(): ReadonlyMap<string, ReadonlyMap<string, VersionHistory>> {
    return this.#workers;
  }

  /**
   * Closes a window ending at `now`: what each series counted since the last close, summed per worker id,
   * version, PoP and kind. `protect` names versions never let go (a judged candidate and its baseline).
   */
  close(
    series: readonly MergedSeries[],
    now: number,
    protect: (workerId: string) => readonly string[],
  ): void {
    const index = ++this.#index;
    const grown = new Map<string, Map<string, Counts>>();
    for (const s of series) {
      const kind = KINDS[s.labels[KIND] as string];
      if (s.overflow || kind === undefined) continue;
      let last = this.#last.get(s);
      if (!last) {
        last = new Float64Array(this.#stride);
        this.#last.set(s, last);
      }
      if (s.values[REQUESTS] === last[REQUESTS]) continue;
      const id = s.labels[ID] as string;
      const version = s.labels[VERSION] as string;
      let versions = grown.get(id);
      if (!versions) {
        versions = new Map();
        grown.set(id, versions);
      }
      let counts = versions.get(version);
      if (!counts) {
        counts = new Map();
        versions.set(version, counts);
      }
      const into = countsAt(counts, s.labels[POP] as string, this.#stride)[kind] as Float64Array;
      for (let v = 0; v < this.#stride; v++) {
        into[v] = (into[v] as number) + (s.values[v] as number) - (last[v] as number);
        last[v] = s.values[v] as number;
      }
    }
    for (const [id, versions] of grown) {
      for (const [version, counts] of versions) this.#append(id, version, { index, counts }, now, protect);
    }
  }

  #append(
    id: string,
    version: string,
    window: Window,
    now: number,
    protect: (workerId: string) => readonly string[],
  ): void {
    let versions = this.#workers.get(id);
    if (!versions) {
      versions = new Map();
      this.#workers.set(id, versions);
    }
    let history = versions.get(version);
    if (!history) {
      if (versions.size >= this.#maxVersions) this.#evict(versions, protect(id));
      history = {
        version,
        firstWindow: window.index,
        firstSeen: now,
        lastWindow: window.index,
        served: 0,
        windows: [],
      };
      versions.set(version, history);
    }
    history.lastWindow = window.index;
    for (const [server] of window.counts.values()) history.served += server[REQUESTS] as number;
    history.windows.push(window);
    if (history.windows.length > this.#maxWindows) history.windows.shift();
  }

  #evict(versions: Map<string, VersionHistory>, protectedVersions: readonly string[]): void {
    let oldest: VersionHistory | undefined;
    for (const history of versions.values()) {
      if (protectedVersions.includes(history.version)) continue;
      if (!oldest || history.lastWindow < oldest.lastWindow) oldest = history;
    }
    if (oldest) versions.delete(oldest.version);
  }

  /** Lets a version go (silent for the whole history); a worker id without versions goes too. */
  forget(workerId: string, version: string): void {
    const versions = this.#workers.get(workerId);
    versions?.delete(version);
    if (versions?.size === 0) this.#workers.delete(workerId);
  }
}
