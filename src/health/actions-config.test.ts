import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configErrorOf } from '../../test/support/config-error.ts';
import { versionHealthConfig } from '../../test/support/version-health.ts';
import { resolveConfig } from '../service/load-config.ts';
import { configDigest } from '../service/reload-plan.ts';

const SECRET = 'a-webhook-secret-of-enough-length';
const INLINE = {
  host: 'akab-host.luna.akamaiapis.net',
  client_token: 'akab-client-token',
  client_secret: 'client-secret-value',
  access_token: 'akab-access-token',
};

const actions = (block: Record<string, unknown>) => versionHealthConfig({ actions: block }).actions;
const keyOf = (block: Record<string, unknown>) => configErrorOf(() => actions(block)).key;

function edgerc(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'edge-relay-edgerc-')), '.edgerc');
  writeFileSync(file, text);
  return file;
}

describe('version_health.actions config', () => {
  it('is absent unless configured, and a dry run by default', () => {
    expect(versionHealthConfig().actions).toBeUndefined();
    const block = actions({ webhook: { url: 'https://hooks.example.com/edge', secret: SECRET } });
    expect(block?.dry_run).toBe(true);
    expect(block?.webhook?.receiver).toBe('edge-relay');
    expect(block?.webhook?.timeout).toBe(10_000);
  });

  it('refuses plain http outside loopback, naming the key', () => {
    expect(keyOf({ webhook: { url: 'http://hooks.example.com/edge', secret: SECRET } })).toBe(
      'version_health.actions.webhook.url',
    );
    for (const url of ['http://127.0.0.1:9000/hook', 'http://localhost/hook', 'http://[::1]:80/']) {
      expect(actions({ webhook: { url, secret: SECRET } })?.webhook?.url).toBe(url);
    }
  });

  it('needs a webhook secret of some length', () => {
    expect(keyOf({ webhook: { url: 'https://h.example/' } })).toBe('version_health.actions.webhook.secret');
    expect(keyOf({ webhook: { url: 'https://h.example/', secret: 'short' } })).toBe(
      'version_health.actions.webhook.secret',
    );
  });

  it('names an unknown network', () => {
    expect(keyOf({ edgeworkers: { network: 'QA', ...INLINE } })).toBe(
      'version_health.actions.edgeworkers.network',
    );
    expect(keyOf({ edgeworkers: INLINE })).toBe('version_health.actions.edgeworkers.network');
  });

  it('takes inline credentials only when complete', () => {
    expect(actions({ edgeworkers: { network: 'STAGING', ...INLINE } })?.edgeworkers?.cooldown).toBe(
      1_800_000,
    );
    const { access_token: _, ...partial } = INLINE;
    expect(keyOf({ edgeworkers: { network: 'STAGING', ...partial } })).toBe(
      'version_health.actions.edgeworkers.access_token',
    );
    expect(keyOf({ edgeworkers: { network: 'STAGING', ...INLINE, edgerc: { section: 'ci' } } })).toBe(
      'version_health.actions.edgeworkers.edgerc',
    );
  });

  it('reads an .edgerc section, naming the key when the file, the section or a value is missing', () => {
    const path = edgerc(
      '[default]\nclient_secret = s3cret\nhost = akab-x.luna.akamaiapis.net\naccess_token = akab-a\nclient_token = akab-c\n[partial]\nhost = akab-y.luna.akamaiapis.net\n',
    );
    expect(
      actions({ edgeworkers: { network: 'PRODUCTION', edgerc: { path } } })?.edgeworkers?.edgerc,
    ).toEqual({
      path,
      section: 'default',
    });
    expect(keyOf({ edgeworkers: { network: 'PRODUCTION', edgerc: { path: `${path}.missing` } } })).toBe(
      'version_health.actions.edgeworkers.edgerc',
    );
    expect(keyOf({ edgeworkers: { network: 'PRODUCTION', edgerc: { path, section: 'nope' } } })).toBe(
      'version_health.actions.edgeworkers.edgerc',
    );
    const partial = configErrorOf(() =>
      actions({ edgeworkers: { network: 'PRODUCTION', edgerc: { path, section: 'partial' } } }),
    );
    expect(partial.key).toBe('version_health.actions.edgeworkers.edgerc.section');
    expect(partial.message).toContain('client_token, client_secret, access_token');
  });

  it("takes a section's AKAMAI_<SECTION>_* variables over the file, as Akamai's tools do", () => {
    const names = ['HOST', 'CLIENT_TOKEN', 'CLIENT_SECRET', 'ACCESS_TOKEN'];
    for (const name of names) process.env[`AKAMAI_CI_${name}`] = `value-of-${name.toLowerCase()}`;
    try {
      const block = actions({
        edgeworkers: { network: 'STAGING', edgerc: { path: '/nonexistent/.edgerc', section: 'ci' } },
      });
      expect(block?.edgeworkers?.edgerc?.section).toBe('ci');
    } finally {
      for (const name of names) delete process.env[`AKAMAI_CI_${name}`];
    }
    expect(
      keyOf({ edgeworkers: { network: 'STAGING', edgerc: { path: '/nonexistent/.edgerc', section: 'ci' } } }),
    ).toBe('version_health.actions.edgeworkers.edgerc');
  });

  it('keeps secrets out of the config digest', () => {
    const config = (secret: string, client_secret: string) =>
      resolveConfig({
        version_health: {
          actions: {
            webhook: { url: 'https://h.example/', secret, headers: { authorization: secret } },
            edgeworkers: { network: 'STAGING', ...INLINE, client_secret },
          },
        },
      });
    expect(configDigest(config(SECRET, 'one-secret'))).toBe(configDigest(config(`${SECRET}-2`, 'other')));
  });
});
