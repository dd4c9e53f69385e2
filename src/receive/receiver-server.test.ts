import { describe, expect, it } from 'vitest';
import { fakeReceiver } from '../../test/support/fake-receiver.ts';

// A body that no route could parse: a 429 for it shows the refusal came before the body was read.
const garbage = { 'content-type': 'application/json' };

describe('the receiver while no shard has room', () => {
  it.each(['/v1/beacons', '/v1/traces'])(
    'refuses %s with 429 and Retry-After before reading the body',
    async (url) => {
      const { app, offered } = fakeReceiver(2, () => false);
      const response = await app.inject({ method: 'POST', url, headers: garbage, payload: '{not json' });
      expect(response.statusCode).toBe(429);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.body).toMatch(/over its buffer limit/);
      expect(offered).toEqual([]);
    },
  );

  it('still reads and checks the body while one shard of several has room', async () => {
    const { app } = fakeReceiver(2, (shard) => shard === 1);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/beacons',
      headers: garbage,
      payload: '{not json',
    });
    expect(response.statusCode).toBe(400);
    expect(response.body).toMatch(/body is not valid JSON/);
  });

  it('answers other routes as usual', async () => {
    const { app } = fakeReceiver(2, () => false);
    expect((await app.inject({ method: 'GET', url: '/nothing' })).statusCode).toBe(404);
  });
});
