import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClusterConfig } from './config.ts';
import { Membership } from './membership.ts';

const A = 'http://10.0.0.1:4318';
const B = 'http://10.0.0.2:4318';
const C = 'http://10.0.0.3:4318';

const config = {
  self: A,
  peers: [A, B, C],
  dns: { hostname: '', port: 4318, interval: 5000, timeout: 1000 },
  probe_interval: 100,
} as ClusterConfig;

function start(up: Set<string>) {
  const views: string[][] = [];
  const registry = new Registry();
  const membership = new Membership(
    config,
    async () => config.peers,
    async (url) => up.has(url),
    (members) => views.push(members),
    registry,
    pino({ level: 'silent' }),
  );
  return { membership, views, registry };
}

describe('Membership', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts with itself and every peer that answers', async () => {
    const { membership, views } = start(new Set([B]));
    await membership.start();
    expect(membership.members).toEqual([A, B]);
    expect(views).toEqual([[A, B]]);
    membership.leave();
  });

  it('adds a joining peer at its first answer and removes a peer after two failed probes', async () => {
    const up = new Set([B]);
    const { membership, registry } = start(up);
    await membership.start();
    up.add(C);
    await vi.advanceTimersByTimeAsync(100);
    expect(membership.members).toEqual([A, B, C]);
    up.delete(B);
    await vi.advanceTimersByTimeAsync(100);
    expect(membership.members).toEqual([A, B, C]);
    await vi.advanceTimersByTimeAsync(100);
    expect(membership.members).toEqual([A, C]);
    const changes = await registry.getSingleMetric('edge_relay_cluster_membership_changes_total')?.get();
    expect(changes?.values[0]?.value).toBe(3);
    membership.leave();
  });

  it('leaves its own view on shutdown so its traces go to the others', async () => {
    const { membership, views } = start(new Set([B, C]));
    await membership.start();
    membership.leave();
    expect(views.at(-1)).toEqual([B, C]);
  });
});
