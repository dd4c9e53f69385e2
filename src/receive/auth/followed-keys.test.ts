import { describe, expect, it } from 'vitest';
import { authConfig } from '../../../test/support/auth-tokens.ts';
import { issuerForFile } from '../../../test/support/oidc-issuer.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { RequestError } from '../../lib/errors.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { FollowedKeys } from './followed-keys.ts';
import { ReceiverAuth } from './receiver-auth.ts';

// A supervisor's ReceiverAuth, which fetches the issuer's keys, and a receiver thread's, which follows it,
// wired as start-ingress.ts and receiver-thread.ts wire them, in one thread: messages become calls.

const file = issuerForFile();
const { started } = file;

function pair() {
  const config = authConfig({
    oidc: {
      issuer_url: file.issuer.url,
      audience: 'edge-relay',
      jwks_refresh_interval: '0s',
      jwks_min_refresh_interval: '1h',
      // A thread's wait that nothing ends would outlast the test rather than end by itself.
      timeout: '10m',
    },
  });
  const deps = { clientIp: (peer: string) => peer, log: createLogger('silent') };
  const supervisor = new ReceiverAuth(config, deps);
  const followers: FollowedKeys[] = [];
  let asked = 0;
  supervisor.onIssuerKeys((set) => {
    for (const followed of followers) void followed.apply(set);
  });
  started.push(supervisor);
  /** One more receiver thread, given the set the supervisor has, as a thread starting now is. */
  const receiver = () => {
    const auth = new ReceiverAuth(config, {
      ...deps,
      followKeys(oidc, removed) {
        const ask = () => {
          asked++;
          void supervisor.refreshIssuerKeys();
        };
        const followed = new FollowedKeys(oidc, { ask, removed });
        const now = supervisor.issuerKeys();
        if (now) void followed.apply(now);
        followers.push(followed);
        return followed;
      },
    });
    started.push(auth);
    return async (token: string) => {
      const verdict = await auth.authenticate({ authorization: `Bearer ${token}` }, '192.0.2.1');
      return verdict instanceof RequestError ? verdict.statusCode : 'accepted';
    };
  };
  return { supervisor, receiver, asked: () => asked };
}

describe('a receiver thread following the supervisor for the OIDC issuer keys', () => {
  it('verifies with the keys the supervisor fetched, and the issuer sees the supervisor alone', async () => {
    const before = file.issuer.jwksRequests;
    const { supervisor, receiver } = pair();
    const status = receiver();
    await waitFor(() => supervisor.issuerKeys(), 'the supervisor to fetch the keys');
    expect(await status(await file.issuer.sign('k1'))).toBe('accepted');
    expect(file.issuer.jwksRequests).toBe(before + 1);
  });

  it('asks the supervisor for a rotated set once, and drops what the retired key had verified', async () => {
    const { supervisor, receiver, asked } = pair();
    const status = receiver();
    await waitFor(() => supervisor.issuerKeys(), 'the supervisor to fetch the keys');
    const retiring = await file.issuer.sign('k1');
    expect(await status(retiring)).toBe('accepted');
    const before = file.issuer.jwksRequests;
    await file.issuer.addKey('k2');
    file.issuer.retire('k1');
    const answers = await Promise.all(
      [1, 2, 3].map(async (n) => status(await file.issuer.sign('k2', { sub: `c${n}` }))),
    );
    expect(answers).toEqual(['accepted', 'accepted', 'accepted']);
    expect([asked(), file.issuer.jwksRequests]).toEqual([1, before + 1]);
    expect(await status(retiring)).toBe(401);
    file.issuer.publish('k1');
  });

  it('asks at most once per jwks_min_refresh_interval, and an ask the supervisor refuses still ends the wait', async () => {
    const { supervisor, receiver, asked } = pair();
    await waitFor(() => supervisor.issuerKeys(), 'the supervisor to fetch the keys');
    const first = receiver();
    const second = receiver();
    await file.issuer.addKey('k-unpublished', { publish: false });
    const before = file.issuer.jwksRequests;
    const token = await file.issuer.sign('k-unpublished');
    // The first thread's ask is fetched; its second falls within the interval and is not made.
    expect([await first(token), await first(token)]).toEqual([401, 401]);
    expect([asked(), file.issuer.jwksRequests]).toEqual([1, before + 1]);
    // Another thread's ask is within the supervisor's interval: answered with the set it has, not fetched.
    expect(await second(token)).toBe(401);
    expect([asked(), file.issuer.jwksRequests]).toEqual([2, before + 1]);
  });
});
