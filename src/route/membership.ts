import { Counter, Gauge, type Registry } from 'prom-client';
import { postOnce } from '../lib/http-sender.ts';
import { PROTOBUF } from '../lib/media-types.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ClusterConfig } from './config.ts';
import type { CandidateSource } from './resolve-members.ts';

/** Answers whether a peer takes data right now. */
export type Probe = (url: string) => Promise<boolean>;

/** Consecutive failed probes after which a peer stops being a member: one lost probe is not a departure. */
const FAILURES_TO_LEAVE = 2;

/**
 * This replica's view of the cluster, kept on the main thread: the candidates (static list or DNS),
 * of which the members are those that answer a probe, plus itself until it leaves. Every change is
 * handed to the worker shards, which move traces accordingly.
 */
export class Membership {
  readonly #config: ClusterConfig;
  readonly #source: CandidateSource;
  readonly #probe: Probe;
  readonly #onChange: (members: string[]) => void;
  readonly #log: Logger;
  readonly #changes: Counter;
  readonly #size: Gauge;
  readonly #failures = new Map<string, number>();
  readonly #timers: NodeJS.Timeout[] = [];
  #candidates: string[] = [];
  #members: string[];
  #leaving = false;
  #probing = false;

  constructor(
    config: ClusterConfig,
    source: CandidateSource,
    probe: Probe,
    onChange: (members: string[]) => void,
    registry: Registry,
    log: Logger,
  ) {
    this.#config = config;
    this.#source = source;
    this.#probe = probe;
    this.#onChange = onChange;
    this.#log = log;
    this.#members = [config.self];
    this.#changes = new Counter({
      name: 'edge_relay_cluster_membership_changes_total',
      help: 'Times this replica saw the set of cluster members change',
      registers: [registry],
    });
    this.#size = new Gauge({
      name: 'edge_relay_cluster_members',
      help: 'Cluster members this replica currently sees, itself included',
      registers: [registry],
    });
    this.#size.set(1);
  }

  get members(): readonly string[] {
    return this.#members;
  }

  /** Resolves and probes once (so a joining replica starts with the current view), then keeps doing so. */
  async start(): Promise<void> {
    await this.#resolve();
    await this.#probeAll();
    this.#timers.push(setInterval(() => void this.#probeAll(), this.#config.probe_interval).unref());
    if (this.#config.dns.hostname !== '') {
      this.#timers.push(setInterval(() => void this.#resolve(), this.#config.dns.interval).unref());
    }
  }

  /** Shutdown: stop watching, and drop this replica from its own view so its traces go to the others. */
  leave(): void {
    this.#leaving = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#set(this.#members.filter((member) => member !== this.#config.self));
  }

  async #resolve(): Promise<void> {
    try {
      this.#candidates = (await this.#source()).filter((url) => url !== this.#config.self);
    } catch (err) {
      // Like the Collector's resolver: keep the last known peers rather than lose them on a DNS hiccup.
      this.#log.warn({ err }, 'cluster peers could not be resolved; keeping the last known ones');
    }
  }

  async #probeAll(): Promise<void> {
    // A slow round (peers under load) is not overlapped by the next: its answers are still to come.
    if (this.#probing) return;
    this.#probing = true;
    const candidates = this.#candidates;
    const answers = await Promise.all(candidates.map((url) => this.#probe(url)));
    this.#probing = false;
    if (this.#leaving) return;
    const alive = new Set(this.#members);
    for (const [i, url] of candidates.entries()) {
      const failures = answers[i] ? 0 : (this.#failures.get(url) ?? 0) + 1;
      this.#failures.set(url, failures);
      if (failures === 0) alive.add(url);
      else if (failures >= FAILURES_TO_LEAVE) alive.delete(url);
    }
    for (const url of alive) if (url !== this.#config.self && !candidates.includes(url)) alive.delete(url);
    alive.add(this.#config.self);
    this.#set([...alive].sort());
  }

  #set(members: string[]): void {
    if (members.join(' ') === this.#members.join(' ')) return;
    this.#log.info({ members, was: this.#members }, 'cluster membership changed');
    this.#members = members;
    this.#changes.inc();
    this.#size.set(members.length);
    this.#onChange(members);
  }
}

/** A probe that sends an empty OTLP export request: any replica that takes data answers it with 200. */
export function otlpProbe(timeoutMs: number, authToken: () => string | undefined, marker: string): Probe {
  const body = new Uint8Array(0);
  return async (url) => {
    const token = authToken();
    const headers: Record<string, string> = {
      'content-type': PROTOBUF,
      [marker]: '1',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    };
    return (await postOnce({ url: `${url}/v1/traces`, headers, body }, timeoutMs)).outcome === 'ok';
  };
}
