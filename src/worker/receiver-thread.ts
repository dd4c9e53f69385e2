import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import type { FastifyListenOptions } from 'fastify';
import { collectGarbage } from '../lib/collect-garbage.ts';
import { AdmissionFlag } from '../receive/admission-flag.ts';
import { AuthUsage } from '../receive/auth/auth-usage.ts';
import { FollowedKeys, type IssuerKeySet } from '../receive/auth/followed-keys.ts';
import { ReceiverAuth, recordedByReceiver } from '../receive/auth/receiver-auth.ts';
import { clientIp } from '../receive/client-ip.ts';
import { createLogger } from '../telemetry/logger.ts';
import type { FromReceiverThread, ReceiverThreadData, ToReceiverThread } from './receiver-pool.ts';
import { startReceiver } from './receiver-runtime.ts';

// Entry point of one receiver thread: accepts on the shared port (SO_REUSEPORT: the kernel spreads
// connections over the threads), validates, hands off to the shards by trace id and acknowledges. It
// never waits on the supervisor: the admission decision is read from shared memory, counts are written
// to it; the supervisor's messages (a reload's tokens, a restarted shard's channel) come between requests.
const data = workerData as ReceiverThreadData;
const port = parentPort as NonNullable<typeof parentPort>;
const log = createLogger(data.log_level, { receiver_thread: data.parts.index });
const ipOf = clientIp(data.parts.receiver.trusted_proxies);
const post = (message: FromReceiverThread): void => port.postMessage(message);
// The main thread's ReceiverAuth gets the same configs and announces what they and the clock change
// (logged, audited); this one checks requests, counts them in shared memory, and hands the main thread
// what only it sees for the audit log. It logs only errors: the rest the main thread's logs once. The
// OIDC issuer's keys are the main thread's too: it fetches them, this thread follows.
let issuerKeys: IssuerKeySet | undefined = data.issuer_keys;
let followed: FollowedKeys | undefined;
const auth = new ReceiverAuth(data.parts.receiver.auth, {
  clientIp: ipOf,
  log: log.child({}, { level: 'error' }),
  audit: {
    record(event, fields = {}) {
      if (recordedByReceiver(event)) post({ type: 'audit', event, fields });
    },
  },
  usage: new AuthUsage(data.auth_usage, data.parts.index),
  followKeys(config, removed) {
    followed = new FollowedKeys(config, { ask: () => post({ type: 'issuer_keys_wanted' }), removed });
    if (issuerKeys) void followed.apply(issuerKeys);
    return followed;
  },
});
const running = startReceiver(data.parts, {
  admission: new AdmissionFlag(data.admission),
  auth,
  clientIp: ipOf,
  log,
});

// This thread's heap and array buffers (request bodies) count against the memory limit too.
function publishMemory(): void {
  const memory = process.memoryUsage();
  running.metrics.memory(memory.heapUsed, memory.arrayBuffers);
}
publishMemory();
setInterval(publishMemory, data.check_interval).unref();

port.on('message', (message: ToReceiverThread) => {
  switch (message.type) {
    case 'close':
      running.close().then(() => {
        // This minute's failures, before the main thread closes the audit log.
        auth.stop();
        post({ type: 'closed' });
      });
      break;
    case 'reconnect':
      post({
        type: 'reconnected',
        shard: message.shard,
        posted: running.reconnect(message.shard, message.port),
      });
      break;
    case 'auth':
      auth.update(message.config);
      post({ type: 'auth_applied', seq: message.seq });
      break;
    case 'collect':
      collectGarbage();
      publishMemory();
      break;
    case 'issuer_keys':
      issuerKeys = { issuer: message.issuer, jwks: message.jwks };
      void followed?.apply(issuerKeys);
      break;
  }
});

// fastify hands its listen options to net.Server#listen as they are; its types only lack this one.
await running.app.listen({ ...data.endpoint, reusePort: true } as FastifyListenOptions);
post({ type: 'listening', port: (running.app.server.address() as AddressInfo).port });
