import Fastify from 'fastify';
import { serve } from './serve.ts';

// The ceiling: a bare fastify route that parses the same beacon and replies 202, doing nothing else.
// No relay can beat it; the bench reports every contender as a fraction of it.
const app = Fastify({ logger: false });
app.post('/v1/beacons', async (request, reply) => {
  if (typeof request.body !== 'object' || request.body === null) return reply.code(400).send();
  return reply.code(202).send();
});
await serve(app);
