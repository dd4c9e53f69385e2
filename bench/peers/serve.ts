import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** Counts acknowledged spans and serves the count on GET /accepted, so the bench can see the server's side. */
export function acceptedSpans(app: FastifyInstance): (spans: number) => void {
  let accepted = 0;
  app.get('/accepted', async () => ({ spans: accepted }));
  return (spans) => {
    accepted += spans;
  };
}

/** Listens on an ephemeral loopback port and prints the line the bench harness waits for. */
export async function serve(
  app: FastifyInstance,
  onStop: () => Promise<void> = async () => {},
): Promise<void> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  console.log(JSON.stringify({ msg: 'ready', port: (app.server.address() as AddressInfo).port }));
  process.on('SIGTERM', () => {
    Promise.all([app.close(), onStop()]).finally(() => process.exit(0));
  });
}
