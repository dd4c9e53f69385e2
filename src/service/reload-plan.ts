import type { JSONSchema } from 'json-schema-to-ts';
import { missingExporterSetting } from '../export/config.ts';
import type { Component } from '../lib/component.ts';
import { canonicalJson, changedPaths, sha256Hex } from '../lib/digest.ts';
import { authEnabled } from '../receive/auth/config.ts';
import { clusterEnabled } from '../route/config.ts';
import { COMPONENTS, type RelayConfig } from './relay-schema.ts';

/** What set off a reload, for the log and the audit record. */
export interface ReloadOrigin {
  trigger: 'SIGHUP' | 'file';
  /** The file whose change set it off: the config file, or one of its `${file:…}` references. */
  file: string;
}

const components: readonly Component<string, JSONSchema, unknown>[] = COMPONENTS;

/** The config as it may be digested: each section's secrets replaced (Component.redact). */
function redacted(config: RelayConfig): Record<string, unknown> {
  const tree: Record<string, unknown> = { ...config };
  for (const c of components) {
    if (c.redact && tree[c.key] !== undefined) tree[c.key] = c.redact(tree[c.key]);
  }
  return tree;
}

/** SHA-256 of each section (secrets redacted, keys sorted), for the audit log: equal configs, equal digests. */
export function sectionDigests(config: RelayConfig): Record<string, string> {
  return Object.fromEntries(
    Object.entries(redacted(config)).map(([key, value]) => [key, sha256Hex(canonicalJson(value))]),
  );
}

/** SHA-256 of the whole config, secrets redacted. */
export const configDigest = (config: RelayConfig): string => sha256Hex(canonicalJson(redacted(config)));

/** What a reload may change without a restart: these keys (and everything under them). */
const RELOADABLE = ['tail_sampling', 'receiver.auth', 'exporter.headers'] as const;
type Reloadable = (typeof RELOADABLE)[number];
/** …except these: the worker threads read them when they start. */
const AT_START = ['receiver.auth.identity_attribute'];

const under = (path: string, key: string): boolean =>
  path === key || path.startsWith(`${key}.`) || path.startsWith(`${key}[`);
const reloadable = (path: string): boolean =>
  RELOADABLE.some((key) => under(path, key)) && !AT_START.some((key) => under(path, key));

/** Longest list of key names one reload record carries; a rewrite of everything says so in a count. */
const MAX_KEYS = 50;

export interface ReloadPlan {
  /** Sections that differ from the last loaded config, with their digests before and after. */
  sections: { section: string; old_digest: string; new_digest: string }[];
  /** Dotted keys that differ from the last loaded config whose values are not secret. */
  keys: string[];
  /** Dotted keys of secrets that changed (their digests do not change: secrets are redacted). */
  secret_keys: string[];
  /** Reloadable parts to apply now. */
  apply: Reloadable[];
  /** Keys that differ from what runs and need a restart, with why when it is not obvious. */
  restart: { key: string; why?: string }[];
}

const capped = (keys: string[]): string[] =>
  keys.length <= MAX_KEYS ? keys : [...keys.slice(0, MAX_KEYS), `(${keys.length - MAX_KEYS} more)`];

/**
 * Compares a reloaded config with the one loaded before it (for the audit record) and with the one
 * running (for what to apply): `running` is the config at start with every reload applied since.
 */
export function planReload(running: RelayConfig, previous: RelayConfig, next: RelayConfig): ReloadPlan {
  const before = sectionDigests(previous);
  const after = sectionDigests(next);
  const sections = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter(
      (key) =>
        canonicalJson(previous[key as keyof RelayConfig]) !== canonicalJson(next[key as keyof RelayConfig]),
    )
    .map((section) => ({ section, old_digest: before[section] ?? '', new_digest: after[section] ?? '' }));
  const changed = changedPaths(previous, next);
  const visible = new Set(changedPaths(redacted(previous), redacted(next)));

  const pending = changedPaths(running, next);
  const apply = RELOADABLE.filter((key) => pending.some((path) => reloadable(path) && under(path, key)));
  const restart: ReloadPlan['restart'] = [
    ...new Set(pending.filter((path) => !reloadable(path)).map((path) => path.split('[')[0] as string)),
  ].map((key) => ({ key }));

  const refuse = (key: Reloadable, why: string) => {
    apply.splice(apply.indexOf(key), 1);
    restart.push({ key, why });
  };
  if (apply.includes('receiver.auth')) {
    const [now, then] = [running.receiver.auth, next.receiver.auth];
    if (authEnabled(now) && !authEnabled(then)) {
      refuse(
        'receiver.auth',
        'removing every credential would turn authentication off; that takes a restart',
      );
    } else if (clusterEnabled(running.cluster) && now.tokens.length > 0 && then.tokens.length === 0) {
      refuse(
        'receiver.auth',
        "removing every token would leave the cluster's replicas without one for each other",
      );
    }
  }
  if (apply.includes('exporter.headers')) {
    const runsOtlp = missingExporterSetting(running.exporter) === undefined;
    const wouldRunOtlp =
      missingExporterSetting({ ...running.exporter, headers: next.exporter.headers }) === undefined;
    if (runsOtlp !== wouldRunOtlp) {
      refuse(
        'exporter.headers',
        runsOtlp
          ? 'a header became empty, which would switch to the debug exporter'
          : 'every header is filled in now, which would switch from the debug exporter to OTLP',
      );
    }
  }
  return {
    sections,
    keys: capped(changed.filter((path) => visible.has(path))),
    secret_keys: capped(changed.filter((path) => !visible.has(path))),
    apply,
    restart,
  };
}

/** `running` with the parts a plan applied taken from `next`. */
export function applied(running: RelayConfig, next: RelayConfig, plan: ReloadPlan): RelayConfig {
  const result = { ...running };
  if (plan.apply.includes('tail_sampling')) result.tail_sampling = next.tail_sampling;
  if (plan.apply.includes('receiver.auth')) {
    const { identity_attribute } = running.receiver.auth;
    result.receiver = { ...result.receiver, auth: { ...next.receiver.auth, identity_attribute } };
  }
  if (plan.apply.includes('exporter.headers')) {
    result.exporter = { ...result.exporter, headers: next.exporter.headers };
  }
  return result;
}
