import { setTimeout as sleep } from 'node:timers/promises';
import type { EdgeWorkersActionConfig } from '../health/config.ts';
import type { Verdict, VerdictChange } from '../judge/verdict.ts';
import { type EdgeGridCredentials, EdgeGridSigner, readEdgeRc } from '../lib/edgegrid.ts';
import type { ActionLog, ActionOutcome } from './action-log.ts';
import { actionSender, type SenderHooks } from './action-sender.ts';
import { EdgeWorkersApi, type Network, UNDER_WAY } from './edgeworkers-api.ts';
import { pairKey } from './verdict-history.ts';

/** The API takes notes of at most 128 characters. */
const NOTE_LIMIT = 128;

export interface RollbackHooks extends SenderHooks {
  now?: () => number;
  /** This replica's turn (0 first) for an EdgeWorker id; it waits `stagger` × turn before acting. */
  turn?: (workerId: string) => number;
  /** Waits before a later replica checks; a test resolves it on an event instead of the clock. */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** The credentials the config names: the four values given inline, else the .edgerc section (checked at load). */
function credentialsOf(config: EdgeWorkersActionConfig): EdgeGridCredentials {
  if (config.host !== '') return config;
  const { path, section } = config.edgerc ?? { path: '~/.edgerc', section: 'default' };
  const read = readEdgeRc(path, section);
  if ('missing' in read) throw new Error(`[${section}] of ${path} lacks ${read.missing.join(', ')}`);
  return read.credentials;
}

const noteFor = (template: string, verdict: Verdict): string =>
  template
    .replaceAll('{candidate}', verdict.candidate)
    .replaceAll('{baseline}', verdict.baseline)
    .slice(0, NOTE_LIMIT);

/**
 * Rolls a regressed candidate back by activating its baseline, by name, on the configured network:
 * activating a named version is idempotent where "the previous version" is not, so a retried call or
 * a second replica can never step back twice. Before activating it checks, through the API, that the
 * candidate is still what is active and that no activation of the baseline is under way; replicas take
 * turns `stagger` apart, so the first acts and the others find its activation. At most once per
 * (id, candidate) in this process, and not again for an id within `cooldown`.
 */
export class EdgeWorkersRollback {
  readonly #config: EdgeWorkersActionConfig;
  readonly #network: Network;
  readonly #dryRun: boolean;
  readonly #actions: ActionLog;
  readonly #api: EdgeWorkersApi<Verdict>;
  readonly #now: () => number;
  readonly #turn: (workerId: string) => number;
  readonly #wait: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #considered = new Set<string>();
  /** When this replica last activated a version of each id, for the cooldown. */
  readonly #lastActivation = new Map<string, number>();
  readonly #running = new Set<Promise<void>>();
  readonly #stopping = new AbortController();

  constructor(
    config: EdgeWorkersActionConfig,
    dryRun: boolean,
    actions: ActionLog,
    hooks: RollbackHooks = {},
  ) {
    this.#config = config;
    this.#network = config.network as Network;
    this.#dryRun = dryRun;
    this.#actions = actions;
    this.#now = hooks.now ?? Date.now;
    this.#turn = hooks.turn ?? (() => 0);
    this.#wait = hooks.wait ?? ((ms, signal) => sleep(ms, undefined, { signal, ref: false }));
    const { sender, about } = actionSender('rollback', config, actions, hooks);
    this.#api = new EdgeWorkersApi(new EdgeGridSigner(credentialsOf(config)), sender, about);
  }

  /** Acts on a change to `regressed`; resolves when the rollback it started (if any) has ended. */
  onChange({ verdict, previous, ended }: VerdictChange): Promise<void> {
    if (verdict.state !== 'regressed' || previous === 'regressed' || ended) return Promise.resolve();
    const key = pairKey(verdict);
    if (this.#considered.has(key)) return Promise.resolve();
    this.#considered.add(key);
    const run = this.#rollBack(verdict).catch((err: unknown) => {
      this.#actions.record('rollback', 'failed', verdict, `unexpected error: ${(err as Error).message}`);
    });
    this.#running.add(run);
    void run.then(() => this.#running.delete(run));
    return run;
  }

  async #rollBack(verdict: Verdict): Promise<void> {
    const { workerId: id, baseline } = verdict;
    const ids = this.#config.ids;
    if (ids.length > 0 && !ids.includes(id)) {
      return this.#record('excluded', verdict, `EdgeWorker ${id} is not in edgeworkers.ids`);
    }
    const turn = this.#turn(id);
    if (turn > 0) {
      try {
        await this.#wait(turn * this.#config.stagger, this.#stopping.signal);
      } catch {
        return this.#record('failed', verdict, 'the relay stopped before its turn to check');
      }
    }
    const last = this.#lastActivation.get(id);
    if (last !== undefined && this.#now() - last < this.#config.cooldown) {
      const ago = Math.round((this.#now() - last) / 1000);
      return this.#record(
        'cooldown',
        verdict,
        `this relay activated a version of EdgeWorker ${id} ${ago}s ago, within the cooldown of ${this.#config.cooldown / 1000}s`,
      );
    }
    const standDown = await this.#check(verdict);
    if (standDown) return this.#record(standDown.outcome, verdict, standDown.detail);
    const network = this.#network;
    if (this.#dryRun) {
      return this.#record('dry_run', verdict, `would activate ${baseline} of EdgeWorker ${id} on ${network}`);
    }
    this.#lastActivation.set(id, this.#now());
    const activated = await this.#api.activate(
      verdict,
      id,
      baseline,
      network,
      noteFor(this.#config.note, verdict),
    );
    if (!activated.ok)
      return this.#record('failed', verdict, `activating ${baseline} on ${network}: ${activated.detail}`);
    const { activationId, status } = activated.value;
    this.#record('activated', verdict, `activation ${activationId} of ${baseline} on ${network} (${status})`);
  }

  /** Why not to activate, from what the API says now; undefined when the candidate is active and nothing is under way. */
  async #check(verdict: Verdict): Promise<{ outcome: ActionOutcome; detail: string } | undefined> {
    const { workerId: id, candidate, baseline } = verdict;
    const network = this.#network;
    const pending = await this.#api.activationsOf(verdict, id, baseline);
    if (!pending.ok)
      return { outcome: 'failed', detail: `listing activations of ${baseline}: ${pending.detail}` };
    const underWay = pending.value.find((a) => a.network === network && UNDER_WAY.has(a.status));
    if (underWay) {
      return {
        outcome: 'in_progress',
        detail: `activation ${underWay.activationId} of ${baseline} on ${network} is ${underWay.status}`,
      };
    }
    const active = await this.#api.activeVersion(verdict, id, network);
    if (!active.ok) return { outcome: 'failed', detail: `reading the active version: ${active.detail}` };
    if (active.value === baseline) {
      return { outcome: 'already_active', detail: `${baseline} is already active on ${network}` };
    }
    if (active.value !== candidate) {
      return {
        outcome: 'not_active',
        detail: `${active.value ?? 'no version'} is active on ${network}, not ${candidate}: left alone`,
      };
    }
    return undefined;
  }

  #record(outcome: ActionOutcome, verdict: Verdict, detail: string): void {
    this.#actions.record('rollback', outcome, verdict, detail);
  }

  /** Shutdown: rollbacks waiting for their turn give up (reported); calls under way may run to `deadline`. */
  async stop(deadline: number): Promise<void> {
    this.#stopping.abort();
    await Promise.race([
      Promise.all(this.#running),
      sleep(Math.max(0, deadline - this.#now()), undefined, { ref: false }),
    ]);
  }
}
