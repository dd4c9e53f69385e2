import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { announce } from './serve.ts';

// The floor under the ceiling: bare node:http that reads the body, parses it and answers 202, with no
// framework. Beside the fastify ceiling it shows what fastify itself costs per request.
let accepted = 0;
// Empty answers say so: without a length node:http would send them chunked, which fastify does not.
const EMPTY = { 'content-length': '0' };

function beacon(request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    let spans: unknown;
    try {
      spans = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { spans?: unknown } | null)?.spans;
    } catch {
      spans = undefined;
    }
    if (!Array.isArray(spans)) {
      response.writeHead(400, EMPTY).end();
      return;
    }
    accepted += spans.length;
    response.writeHead(202, EMPTY).end();
  });
}

const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url === '/v1/beacons') beacon(request, response);
  else if (request.method === 'GET' && request.url === '/accepted')
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ spans: accepted }));
  else response.writeHead(404, EMPTY).end();
});
server.listen(0, '127.0.0.1', () =>
  announce(server, () => new Promise<void>((resolve) => server.close(() => resolve()))),
);
