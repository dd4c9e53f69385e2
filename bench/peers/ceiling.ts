import Fastify from 'fastify';
import { acceptedSpans, serve } from './serve.ts';

// The ceiling: a bare fastify route that parses the same beacon and replies 202, doing nothing else.
// No relay can beat it; the bench reports every contender as a fraction of it.
const app = Fastify({ logger: false });
const accepted = acceptedSpans(app);
app.post('/v1/beacons', async (request, reply) => {
  const beacon = request.body as { spans?: unknown[] } | null;
  if (!Array.isArray(beacon?.spans)) return reply.code(400).send();
  accepted(beacon.spans.length);
  return reply.code(202).send();
});
await serve(app);
