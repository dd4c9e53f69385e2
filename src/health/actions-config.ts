import { REDACTED } from '../lib/component.ts';
import { CREDENTIAL_KEYS, readEdgeRc } from '../lib/edgegrid.ts';
import { ConfigError } from '../lib/errors.ts';
import { isLoopbackHost } from '../lib/loopback.ts';
import { retryOnFailureSchema } from '../lib/retry.ts';
import { duration } from '../lib/schema-keywords.ts';
import { clientTlsSchema } from '../lib/tls.ts';

// `version_health.actions`: what the relay does when a version's verdict changes (src/act/). Every
// action is off unless configured, and with `dry_run` (the default) each is logged and counted as what
// it would have done, without a request. Documented in docs/version-health.md, "Actions".

const KEY = 'version_health.actions';

const stringMap = { type: 'object', additionalProperties: { type: 'string' }, default: {} } as const;

/** An Alertmanager-compatible webhook (version 4 payload), HMAC-signed. */
const webhookSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'secret'],
  properties: {
    // https://, or http:// only to a loopback address (a sidecar).
    url: { type: 'string', format: 'http-url', minLength: 1 },
    // Key of the HMAC-SHA256 over the body (X-Edge-Relay-Signature); use ${file:…} or ${env:…}.
    secret: { type: 'string', minLength: 16 },
    headers: stringMap,
    // The payload's `receiver`, and labels added to every alert (team, severity overrides).
    receiver: { type: 'string', minLength: 1, default: 'edge-relay' },
    labels: stringMap,
    // The payload's `externalURL` and each alert's `generatorURL` base: where the /versions page is reached.
    external_url: { type: 'string', format: 'http-url', default: '' },
    timeout: duration('10s'),
    retry_on_failure: retryOnFailureSchema,
    tls: clientTlsSchema,
  },
} as const;

/** Reactivating the baseline version through the EdgeWorkers API, EdgeGrid-signed. */
const edgeworkersSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['network'],
  properties: {
    network: { enum: ['STAGING', 'PRODUCTION'] },
    // Credentials: a section of an .edgerc file (or its AKAMAI_* environment variables), or the four
    // values given here (with ${file:…}/${env:…}); not both.
    edgerc: {
      type: 'object',
      additionalProperties: false,
      properties: {
        path: { type: 'string', default: '~/.edgerc' },
        section: { type: 'string', minLength: 1, default: 'default' },
      },
    },
    host: { type: 'string', default: '' },
    client_token: { type: 'string', default: '' },
    client_secret: { type: 'string', default: '' },
    access_token: { type: 'string', default: '' },
    // EdgeWorker ids the relay may roll back; empty: every id it judges.
    ids: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, default: [] },
    // After a rollback of an id, none of the same id for this long (a flapping verdict must not thrash).
    cooldown: duration('30m'),
    // Replicas act in turn, this far apart, each checking the active version first: the first acts,
    // the others find its activation and stand down (docs/version-health.md, "Several replicas").
    stagger: duration('20s'),
    // The activation's note (the API takes at most 128 characters); {candidate} and {baseline} are filled in.
    note: {
      type: 'string',
      minLength: 1,
      default: 'edge-relay: {candidate} regressed against {baseline}; reactivating {baseline}',
    },
    timeout: duration('30s'),
    retry_on_failure: retryOnFailureSchema,
    tls: clientTlsSchema,
  },
} as const;

export const actionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // Log and count what each action would do, without doing it.
    dry_run: { type: 'boolean', default: true },
    webhook: webhookSchema,
    edgeworkers: edgeworkersSchema,
  },
} as const;

/** Structural form of the validated block, for the checks below (the derived type lives in config.ts). */
interface ActionsShape {
  webhook?: { url: string; secret: string; headers: Record<string, string> };
  edgeworkers?: {
    edgerc?: { path: string; section: string };
    host: string;
    client_token: string;
    client_secret: string;
    access_token: string;
  };
}

function checkWebhook(url: string): void {
  const parsed = new URL(url);
  if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) {
    throw new ConfigError(
      `${KEY}.webhook.url`,
      'must be https:// (http:// only to a loopback address): the notice names versions and the signature alone does not hide it',
    );
  }
}

/** Credentials given inline must be complete; otherwise the .edgerc section (or its variables) must hold them. */
function checkEdgeWorkers(edgeworkers: NonNullable<ActionsShape['edgeworkers']>): void {
  const at = `${KEY}.edgeworkers`;
  const given = CREDENTIAL_KEYS.filter((key) => edgeworkers[key] !== '');
  if (given.length > 0) {
    if (edgeworkers.edgerc) {
      throw new ConfigError(`${at}.edgerc`, `set edgerc or ${given.join(', ')}, not both`);
    }
    const missing = CREDENTIAL_KEYS.find((key) => edgeworkers[key] === '');
    if (missing) throw new ConfigError(`${at}.${missing}`, `required with ${given.join(', ')}`);
    return;
  }
  const { path, section: name } = edgeworkers.edgerc ?? { path: '~/.edgerc', section: 'default' };
  let read: ReturnType<typeof readEdgeRc>;
  try {
    read = readEdgeRc(path, name);
  } catch (err) {
    throw new ConfigError(
      `${at}.edgerc`,
      `no EdgeGrid credentials: section [${name}] of ${path} cannot be read (${(err as Error).message}), and the AKAMAI_* variables are not all set`,
    );
  }
  if ('missing' in read) {
    throw new ConfigError(`${at}.edgerc.section`, `[${name}] of ${path} lacks ${read.missing.join(', ')}`);
  }
}

/** What JSON Schema cannot say: plain http only to loopback, and EdgeGrid credentials that can be read. */
export function checkActions(actions: ActionsShape): void {
  if (actions.webhook) checkWebhook(actions.webhook.url);
  if (actions.edgeworkers) checkEdgeWorkers(actions.edgeworkers);
}

/** The block with its secrets replaced, for config digests. */
export function redactActions<T extends ActionsShape>(actions: T): T {
  const { webhook, edgeworkers } = actions;
  return {
    ...actions,
    ...(webhook && {
      webhook: {
        ...webhook,
        secret: REDACTED,
        headers: Object.fromEntries(Object.keys(webhook.headers).map((name) => [name, REDACTED])),
      },
    }),
    ...(edgeworkers && {
      edgeworkers: {
        ...edgeworkers,
        client_token: edgeworkers.client_token && REDACTED,
        client_secret: edgeworkers.client_secret && REDACTED,
        access_token: edgeworkers.access_token && REDACTED,
      },
    }),
  };
}
