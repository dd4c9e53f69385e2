import { describe, expect, it } from 'vitest';
import { resolveConfig } from './load-config.ts';
import { applied, configDigest, planReload, sectionDigests } from './reload-plan.ts';

const OLD_TOKEN = 'old-beacon-token-0123456789';
const NEW_TOKEN = 'new-beacon-token-0123456789';
const base = {
  receiver: { auth: { tokens: [{ id: 'edge', value: OLD_TOKEN }] } },
  exporter: {
    traces_endpoint: 'http://127.0.0.1:1/v1/traces',
    headers: { 'lightstep-access-token': 'ls-old' },
  },
};
const withChanges = (changes: (tree: typeof base & Record<string, unknown>) => void) => {
  const tree = structuredClone(base) as typeof base & Record<string, unknown>;
  changes(tree);
  return resolveConfig(tree, {});
};

describe('planReload', () => {
  const running = resolveConfig(base, {});

  it('applies a rotated token and header, naming the keys but keeping the digests free of secrets', () => {
    const next = withChanges((tree) => {
      tree.receiver.auth.tokens = [{ id: 'edge', value: NEW_TOKEN }];
      tree.exporter.headers['lightstep-access-token'] = 'ls-new';
    });
    const plan = planReload(running, running, next);
    expect(plan.apply).toEqual(['receiver.auth', 'exporter.headers']);
    expect(plan.restart).toEqual([]);
    expect(plan.keys).toEqual([]);
    expect(plan.secret_keys).toEqual([
      'receiver.auth.tokens[0].value',
      'exporter.headers.lightstep-access-token',
    ]);
    expect(plan.sections.map((s) => s.section)).toEqual(['receiver', 'exporter']);
    for (const section of plan.sections) expect(section.old_digest).toBe(section.new_digest);
    expect(configDigest(next)).toBe(configDigest(running));
    expect(JSON.stringify(plan)).not.toMatch(/ls-new|ls-old|beacon-token/);
  });

  it('digests what is not secret: a token window or a batch setting changes the digest', () => {
    const next = withChanges((tree) => {
      (tree.receiver.auth.tokens[0] as Record<string, string>).not_after = '2030-01-01T00:00:00Z';
      tree.batch = { timeout: '1s' };
    });
    const plan = planReload(running, running, next);
    expect(plan.keys).toEqual(['receiver.auth.tokens[0].not_after', 'batch.timeout']);
    expect(plan.apply).toEqual(['receiver.auth']);
    expect(plan.restart).toEqual([{ key: 'batch.timeout' }]);
    expect(sectionDigests(next).receiver).not.toBe(sectionDigests(running).receiver);
  });

  it('keeps asking for a restart until one happens, while the audit compares with the last load', () => {
    const first = withChanges((tree) => {
      tree.batch = { timeout: '1s' };
    });
    const afterFirst = applied(running, first, planReload(running, running, first));
    const again = planReload(afterFirst, first, first);
    expect(again.restart).toEqual([{ key: 'batch.timeout' }]);
    expect(again.sections).toEqual([]);
  });

  it('does not turn authentication off, nor switch exporters, on a reload', () => {
    const next = withChanges((tree) => {
      tree.receiver.auth.tokens = [];
      tree.exporter.headers['lightstep-access-token'] = '';
    });
    const plan = planReload(running, running, next);
    expect(plan.apply).toEqual([]);
    expect(plan.restart.map((r) => r.key)).toEqual(['receiver.auth', 'exporter.headers']);
    expect(plan.restart[0]?.why).toContain('turn authentication off');
  });

  it('swaps tokens for beacon keys, keeping authentication on, but not the identity attribute', () => {
    const next = withChanges((tree) => {
      (tree.receiver.auth as Record<string, unknown>) = {
        beacon_keys: [{ id: 'edge-k1', secret: 'k'.repeat(40) }],
        identity_attribute: 'edge_relay.client.identity',
      };
    });
    const plan = planReload(running, running, next);
    expect(plan.apply).toEqual(['receiver.auth']);
    expect(plan.restart).toEqual([{ key: 'receiver.auth.identity_attribute' }]);
    expect(plan.keys).toContain('receiver.auth.beacon_keys[0]');
    expect(JSON.stringify(plan)).not.toContain('kkkkkkkk');
    const after = applied(running, next, plan);
    expect(after.receiver.auth.beacon_keys).toHaveLength(1);
    expect(after.receiver.auth.identity_attribute).toBe('');
    expect(planReload(after, next, next).restart).toEqual([{ key: 'receiver.auth.identity_attribute' }]);
  });
});
