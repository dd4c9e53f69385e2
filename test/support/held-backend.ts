import type { RelayProcess } from './relay-process.ts';
import { waitFor } from './wait-for.ts';

/**
 * SIGTERMs the relay, and once it has stopped being ready lets a held backend answer (`release`, from
 * OtlpSink.hold): whatever the sink then receives, the relay had to deliver while draining. Resolves
 * with the exit code.
 */
export async function stopThenRelease(relay: RelayProcess, release: () => void): Promise<number | null> {
  const stopped = relay.stop();
  await waitFor(
    async () =>
      (await fetch(`http://127.0.0.1:${relay.adminPort}/readyz`).catch(() => undefined))?.status !== 200,
    'readiness to fail',
  );
  release();
  return stopped;
}
