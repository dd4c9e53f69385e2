import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ActionHarness, rollbackActions } from '../../test/support/action-harness.ts';
import { type TestPki, testPki } from '../../test/support/certs.ts';
import { FakeEdgeWorkersApi } from '../../test/support/fake-edgeworkers-api.ts';
import { change, verdict } from '../../test/support/verdicts.ts';
import type { ActionsConfig } from '../health/config.ts';
import { EdgeWorkersRollback, type RollbackHooks } from './rollback.ts';

let pki: TestPki;
let api: FakeEdgeWorkersApi | undefined;
beforeAll(() => {
  pki = testPki();
});
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const ID = '42817';

async function fakeApi(options: { completeAtOnce?: boolean; active?: string } = {}) {
  api = await FakeEdgeWorkersApi.start(pki, {
    active: { [ID]: { STAGING: options.active ?? '1.4.3', PRODUCTION: '1.4.2' } },
    completeAtOnce: options.completeAtOnce ?? false,
  });
  return api;
}

function rollback(config: ActionsConfig, hooks: RollbackHooks = {}) {
  const harness = new ActionHarness();
  const instance = new EdgeWorkersRollback(
    config.edgeworkers as NonNullable<ActionsConfig['edgeworkers']>,
    config.dry_run,
    harness.actions,
    hooks,
  );
  return { harness, instance };
}

const regressed = (overrides = {}) => change(verdict('regressed', overrides), 'suspect');

/**
 * Three replicas judging the same traffic: each is told of the same regression, takes its turn (0, 1, 2)
 * and, instead of the clock, waits for the replica before it to finish: the ordering the stagger gives.
 */
async function threeReplicas(config: ActionsConfig) {
  const replicas: ReturnType<typeof rollback>[] = [];
  const done: Promise<void>[] = [];
  for (let turn = 0; turn < 3; turn++) {
    const before = done[turn - 1];
    const replica = rollback(config, { turn: () => turn, wait: () => before ?? Promise.resolve() });
    replicas.push(replica);
    done.push(replica.instance.onChange(regressed()));
  }
  await Promise.all(done);
  return replicas;
}

describe('EdgeWorkers rollback', () => {
  it('activates the baseline by name on the configured network, once, with a verified EdgeGrid signature', async () => {
    const fake = await fakeApi();
    const { harness, instance } = rollback(rollbackActions(fake.host, pki));
    await instance.onChange(regressed());
    expect(fake.requests.every((r) => r.verified)).toBe(true);
    expect(fake.posts).toHaveLength(1);
    expect(JSON.parse(fake.posts[0]?.body as string)).toEqual({
      version: '1.4.2',
      network: 'STAGING',
      note: 'edge-relay: 1.4.3 regressed against 1.4.2; reactivating 1.4.2',
    });
    expect(await harness.count('rollback', 'activated')).toBe(1);
    expect(harness.audited).toEqual([
      expect.objectContaining({
        event: 'version.action',
        fields: expect.objectContaining({
          action: 'rollback',
          outcome: 'activated',
          worker_id: ID,
          baseline: '1.4.2',
        }),
      }),
    ]);
    // The same regression told again (a repeated event) does nothing more.
    await instance.onChange(regressed());
    expect(fake.posts).toHaveLength(1);
  });

  it('with three replicas, exactly one activates: the others find its activation under way', async () => {
    const fake = await fakeApi();
    const replicas = await threeReplicas(rollbackActions(fake.host, pki));
    expect(fake.posts).toHaveLength(1);
    expect(fake.activations.map((a) => [a.version, a.network])).toEqual([['1.4.2', 'STAGING']]);
    const outcomes = await Promise.all(
      replicas.map(async ({ harness }) =>
        (await harness.count('rollback', 'activated'))
          ? 'activated'
          : (await harness.count('rollback', 'in_progress'))
            ? 'in_progress'
            : '?',
      ),
    );
    expect(outcomes).toEqual(['activated', 'in_progress', 'in_progress']);
  });

  it('with three replicas and an activation that completes at once, the others find the baseline active', async () => {
    const fake = await fakeApi({ completeAtOnce: true });
    const replicas = await threeReplicas(rollbackActions(fake.host, pki));
    expect(fake.posts).toHaveLength(1);
    expect(fake.activeVersion(ID, 'STAGING')).toBe('1.4.2');
    expect(await replicas[1]?.harness.count('rollback', 'already_active')).toBe(1);
    expect(await replicas[2]?.harness.count('rollback', 'already_active')).toBe(1);
  });

  it('in a dry run activates nothing, and the log and the metric say what it would have done', async () => {
    const fake = await fakeApi();
    const replicas = await threeReplicas(rollbackActions(fake.host, pki, { dry_run: true }));
    expect(fake.posts).toHaveLength(0);
    for (const { harness } of replicas) {
      expect(await harness.count('rollback', 'dry_run')).toBe(1);
      expect(harness.messages()).toContain(
        'version action rollback: dry_run: would activate 1.4.2 of EdgeWorker 42817 on STAGING',
      );
    }
  });

  it('leaves alone an EdgeWorker whose active version is neither the candidate nor the baseline', async () => {
    const fake = await fakeApi({ active: '1.5.0' });
    const { harness, instance } = rollback(rollbackActions(fake.host, pki));
    await instance.onChange(regressed());
    expect(fake.posts).toHaveLength(0);
    expect(await harness.count('rollback', 'not_active')).toBe(1);
  });

  it('retries a failed call, signed anew, and counts the failed attempt', async () => {
    const fake = await fakeApi();
    fake.failNext.push(503, 503);
    const { harness, instance } = rollback(rollbackActions(fake.host, pki));
    await instance.onChange(regressed());
    expect(fake.posts).toHaveLength(1);
    expect(await harness.count('rollback', 'retry')).toBe(2);
    expect(await harness.count('rollback', 'activated')).toBe(1);
  });

  it('reports a rollback it could not make, as failed, never silently', async () => {
    const fake = await fakeApi();
    const { harness, instance } = rollback(
      rollbackActions(fake.host, pki, {
        client_secret: 'not-the-secret',
        retry_on_failure: { enabled: false },
      }),
    );
    await instance.onChange(regressed());
    expect(fake.requests.map((r) => r.why)).toEqual(['signature mismatch']);
    expect(fake.posts).toHaveLength(0);
    expect(await harness.count('rollback', 'failed')).toBe(1);
    expect(harness.lines.find((line) => line.outcome === 'failed')?.level).toBe(50);
  });

  it('keeps to its cooldown per id and to its ids, and ignores what is not a new regression', async () => {
    const fake = await fakeApi({ completeAtOnce: true });
    const { harness, instance } = rollback(rollbackActions(fake.host, pki, { ids: [ID, '7'] }));
    await instance.onChange(change(verdict('suspect'), 'collecting'));
    await instance.onChange(change(verdict('regressed'), 'suspect', 'superseded'));
    expect(fake.requests).toHaveLength(0);
    await instance.onChange(regressed());
    expect(fake.posts).toHaveLength(1);
    await instance.onChange(regressed({ candidate: '1.4.4', baseline: '1.4.2' }));
    expect(await harness.count('rollback', 'cooldown')).toBe(1);
    await instance.onChange(regressed({ workerId: '99' }));
    expect(await harness.count('rollback', 'excluded')).toBe(1);
    expect(fake.posts).toHaveLength(1);
  });
});
