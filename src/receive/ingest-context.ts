import type { Handoff } from '../handoff/handoff.ts';
import type { RelayMetrics } from '../telemetry/metrics.ts';
import type { Admission } from './admission.ts';
import type { WriteAheadLog } from './wal/write-ahead-log.ts';

/** What ingest routes share: where accepted data goes, the metrics, and whether ingest is open. */
export interface IngestContext {
  readonly handoff: Handoff;
  /** With `receiver.durability: wal`: requests are acknowledged once committed here, then handed off. */
  readonly wal?: WriteAheadLog | undefined;
  readonly shards: number;
  readonly metrics: RelayMetrics;
  /** Whether memory and queue levels let new data in; read on every request, refreshed by a timer. */
  readonly admission: Pick<Admission, 'shedding' | 'retryAfter' | 'why'>;
  readonly clientIp: (peer: string, forwardedFor: string | undefined) => string;
  /** False once shutdown has begun: new data gets 503 so the client sends it elsewhere. */
  accepting: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() when the request's headers were read; the start of ack latency. */
    receivedAt: number;
    /**
     * Whom the request's credential names (receive/auth/receiver-auth.ts), when
     * receiver.auth.identity_attribute is set; "" otherwise.
     */
    identity: string;
  }
}
