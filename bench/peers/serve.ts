import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';

/** Listens on an ephemeral loopback port and prints the line the bench harness waits for. */
export async function serve(app: FastifyInstance, onStop: () => Promise<void> = async () => {}): Promise<void> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  console.log(JSON.stringify({ msg: 'ready', port: (app.server.address() as AddressInfo).port }));
  process.on('SIGTERM', () => {
    Promise.all([app.close(), onStop()]).finally(() => process.exit(0));
  });
}
