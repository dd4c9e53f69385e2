import type { AddressInfo, Server } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** Counts acknowledged spans and serves the count on GET /accepted, so the bench can see the server's side. */
export function acceptedSpans(app: FastifyInstance): (spans: number) => void {
  let accepted = 0;
  app.get('/accepted', async () => ({ spans: accepted }));
  return (spans) => {
    accepted += spans;
  };
}

/** Prints the line the bench harness waits for, and exits on SIGTERM once `stop` is done. */
export function announce(server: Server, stop: () => Promise<unknown>): void {
  console.log(JSON.stringify({ msg: 'ready', port: (server.address() as AddressInfo).port }));
  process.on('SIGTERM', () => {
    stop().finally(() => process.exit(0));
  });
}

/** Listens on an ephemeral loopback port and announces it. */
export async function serve(
  app: FastifyInstance,
  onStop: () => Promise<void> = async () => {},
): Promise<void> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  announce(app.server, () => Promise.all([app.close(), onStop()]));
}
