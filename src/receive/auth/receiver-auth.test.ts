import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { authConfig } from '../../../test/support/auth-tokens.ts';
import { createLogger } from '../../telemetry/logger.ts';
import type { AuthConfig } from './config.ts';
import { type AuthDependencies, ReceiverAuth } from './receiver-auth.ts';

const FIRST = 'first-token-0123456789';
const SECOND = 'second-token-0123456789';
const HOUR = 3_600_000;

function setup(tokens: AuthConfig['tokens'], warn_before_expiry = '0s') {
  const registry = new Registry();
  const events: { event: string; fields: Record<string, unknown> }[] = [];
  const deps: AuthDependencies = {
    registry,
    clientIp: (peer) => peer,
    log: createLogger('silent'),
    audit: { record: (event, fields = {}) => events.push({ event, fields }) },
  };
  const auth = new ReceiverAuth(authConfig({ tokens, warn_before_expiry }), deps);
  const allowed = (header: string | undefined, peer = '192.0.2.1') =>
    typeof auth.authenticate(header === undefined ? {} : { authorization: header }, peer) === 'string';
  return { auth, allowed, registry, events, names: () => events.map((e) => e.event) };
}

describe('ReceiverAuth', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2027-01-01T00:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets everything in without tokens', () => {
    expect(setup([]).allowed(undefined)).toBe(true);
  });

  describe('with two tokens', () => {
    const { allowed } = setup([
      { id: 'token-0', value: FIRST },
      { id: 'token-1', value: SECOND },
    ]);

    it('accepts any configured token', () => {
      expect(allowed(`Bearer ${FIRST}`)).toBe(true);
      expect(allowed(`Bearer ${SECOND}`)).toBe(true);
    });

    it('takes the scheme in any case', () => {
      expect(allowed(`bearer ${FIRST}`)).toBe(true);
      expect(allowed(`BEARER ${FIRST}`)).toBe(true);
    });

    it.each([
      undefined,
      '',
      'Bearer ',
      `Basic ${FIRST}`,
      `Bearer ${FIRST.slice(0, -1)}`,
      FIRST,
      `Bearer${FIRST}`,
    ])('refuses %j', (header) => {
      expect(allowed(header)).toBe(false);
    });
  });

  it('accepts a token only inside its window: from not_before, until not_after', () => {
    const { allowed } = setup([
      { id: 'next', value: FIRST, not_before: '2027-01-01T01:00:00Z', not_after: '2027-01-01T02:00:00Z' },
    ]);
    expect(allowed(`Bearer ${FIRST}`)).toBe(false);
    vi.setSystemTime(Date.parse('2027-01-01T01:00:00Z'));
    expect(allowed(`Bearer ${FIRST}`)).toBe(true);
    vi.setSystemTime(Date.parse('2027-01-01T02:00:00Z') - 1);
    expect(allowed(`Bearer ${FIRST}`)).toBe(true);
    vi.setSystemTime(Date.parse('2027-01-01T02:00:00Z'));
    expect(allowed(`Bearer ${FIRST}`)).toBe(false);
  });

  it('counts requests per token id and result, and never shows a value in /metrics', async () => {
    const { allowed, registry } = setup([
      { id: 'old', value: FIRST, not_after: '2026-12-31T00:00:00Z' },
      { id: 'token-1', value: SECOND },
    ]);
    allowed(`Bearer ${FIRST}`);
    allowed(`Bearer ${SECOND}`);
    allowed(`Bearer ${SECOND}`);
    allowed('Bearer nope-nope-nope-nope');
    allowed(undefined);
    const text = await registry.metrics();
    expect(text).toContain('edge_relay_auth_requests_total{token_id="old",result="expired"} 1');
    expect(text).toContain('edge_relay_auth_requests_total{token_id="token-1",result="accepted"} 2');
    expect(text).toContain('edge_relay_auth_requests_total{token_id="",result="invalid"} 1');
    expect(text).toContain('edge_relay_auth_requests_total{token_id="",result="missing"} 1');
    expect(text).toContain(
      `edge_relay_auth_token_last_used_timestamp_seconds{token_id="token-1"} ${Date.now() / 1000}`,
    );
    expect(text).toContain('edge_relay_auth_token_last_used_timestamp_seconds{token_id="old"} 0');
    expect(text).toContain(
      `edge_relay_auth_token_not_after_timestamp_seconds{token_id="old"} ${Date.parse('2026-12-31T00:00:00Z') / 1000}`,
    );
    expect(text).not.toContain(FIRST);
    expect(text).not.toContain(SECOND);
  });

  it('swaps tokens on update, audits the change by id, and keeps each id counting', async () => {
    const { auth, allowed, events, names, registry } = setup([{ id: 'a', value: FIRST }]);
    allowed(`Bearer ${FIRST}`);
    allowed(`Bearer ${FIRST}`);
    auth.update(
      authConfig({
        tokens: [
          { id: 'a', value: FIRST, not_after: '2027-01-02T00:00:00Z' },
          { id: 'b', value: SECOND },
        ],
        warn_before_expiry: '0s',
      }),
    );
    expect(allowed(`Bearer ${SECOND}`)).toBe(true);
    auth.update(authConfig({ tokens: [{ id: 'b', value: SECOND }], warn_before_expiry: '0s' }));
    expect(allowed(`Bearer ${FIRST}`)).toBe(false);
    expect(names()).toEqual([
      'token.first_use',
      'token.changed',
      'token.added',
      'token.first_use',
      'token.removed',
      'token.last_use',
    ]);
    expect(events[1]?.fields).toMatchObject({ token_id: 'a', value_changed: false, window_changed: true });
    expect(events[5]?.fields).toMatchObject({ token_id: 'a', accepted: 2 });
    expect(JSON.stringify(events)).not.toContain(FIRST);
    expect(await registry.metrics()).toContain(
      'edge_relay_auth_requests_total{token_id="a",result="accepted"} 2',
    );
  });

  it('warns ahead of expiry, audits the expiry when it comes, and moves the peer token on', () => {
    const { auth, names } = setup(
      [
        { id: 'old', value: FIRST, not_after: '2027-01-01T03:00:00Z' },
        { id: 'new', value: SECOND, not_before: '2027-01-01T01:00:00Z' },
      ],
      '1h',
    );
    const changes = vi.fn();
    auth.onChange(changes);
    expect(auth.peerToken()).toBe(FIRST);
    // The timers fire a millisecond past each instant.
    vi.advanceTimersByTime(HOUR + 1);
    expect(names()).toEqual(['token.activated']);
    vi.advanceTimersByTime(2 * HOUR);
    expect(names()).toEqual(['token.activated', 'token.expired']);
    expect(auth.peerToken()).toBe(SECOND);
    expect(changes).toHaveBeenCalledTimes(2);
  });

  it('aggregates failures per minute and source address into one audit record', () => {
    const { auth, allowed, events } = setup([{ id: 'a', value: FIRST }]);
    allowed(undefined, '198.51.100.7');
    allowed('Bearer wrong-wrong-wrong-wrong', '198.51.100.7');
    allowed(undefined, '203.0.113.9');
    expect(events).toEqual([]);
    vi.advanceTimersByTime(60_000);
    expect(events).toHaveLength(1);
    expect(events[0]?.event).toBe('auth.failures');
    expect(events[0]?.fields.sources).toEqual([
      { address: '198.51.100.7', failures: 2, results: { missing: 1, invalid: 1 } },
      { address: '203.0.113.9', failures: 1, results: { missing: 1 } },
    ]);
    auth.stop();
  });
});
