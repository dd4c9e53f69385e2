import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../service/load-config.ts';
import { httpLimits } from './http-limits.ts';

const limitsOf = (receiver: Record<string, unknown>) => httpLimits(resolveConfig({ receiver }).receiver);

describe('httpLimits', () => {
  it('bounds a whole request, its headers, keep-alive idleness and connections by default', () => {
    expect(limitsOf({})).toEqual({
      requestTimeout: 30_000,
      headersTimeout: 10_000,
      keepAliveTimeout: 72_000,
      maxConnections: 10_000,
      connectionsCheckingInterval: 1000,
    });
  });

  it('falls back on read_timeout as the Collector does, and checks deadlines at a quarter of the shortest', () => {
    expect(limitsOf({ read_timeout: '2s', read_header_timeout: 0, idle_timeout: 0 })).toMatchObject({
      requestTimeout: 2000,
      headersTimeout: 2000,
      keepAliveTimeout: 2000,
      connectionsCheckingInterval: 500,
    });
    expect(
      limitsOf({ read_timeout: '100ms', read_header_timeout: '100ms' }).connectionsCheckingInterval,
    ).toBe(50);
  });

  it('leaves no bound where every key is 0', () => {
    expect(
      limitsOf({ read_timeout: 0, read_header_timeout: 0, idle_timeout: 0, max_connections: 0 }),
    ).toMatchObject({ requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 0, maxConnections: Infinity });
  });

  it("keeps the header deadline within the whole request's, which covers the headers too", () => {
    expect(limitsOf({ read_timeout: '5s' })).toMatchObject({ requestTimeout: 5000, headersTimeout: 5000 });
  });
});
