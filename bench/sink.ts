import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { countOtlpSpans } from './span-count.ts';

// The bench's OTLP/HTTP backend, run as its own process: counts requests, bytes on the wire and spans
// (by a protobuf tag walk, not a decode) and answers 200. The harness switches its mode over HTTP:
// ok, slow (answers after 200 ms) or down (503 without reading the spans).

export type SinkMode = 'ok' | 'slow' | 'down';
const MODES: readonly SinkMode[] = ['ok', 'slow', 'down'];
const SLOW_MS = 200;

export interface SinkStats {
  requests: number;
  refused: number;
  /** Request body bytes as sent (after compression) of requests answered 200. */
  bytes: number;
  spans: number;
  /** Date.now() of the last request of any kind, for "until quiet" polling. */
  lastRequestAt: number;
}

const stats: SinkStats = { requests: 0, refused: 0, bytes: 0, spans: 0, lastRequestAt: 0 };
let mode: SinkMode = 'ok';

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function receiveTraces(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readBody(req);
  stats.lastRequestAt = Date.now();
  if (mode === 'down') {
    stats.refused++;
    res.writeHead(503).end();
    return;
  }
  const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
  const spans = countOtlpSpans(body);
  if (mode === 'slow') await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
  stats.requests++;
  stats.bytes += raw.length;
  stats.spans += spans;
  res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
}

const server = createServer((req, res) => {
  const url = req.url ?? '';
  if (req.method === 'POST' && url === '/v1/traces') {
    receiveTraces(req, res).catch((err: Error) => {
      res.writeHead(400).end(err.message);
    });
  } else if (req.method === 'GET' && url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
  } else if (req.method === 'POST' && url.startsWith('/mode/')) {
    const wanted = url.slice('/mode/'.length) as SinkMode;
    if (!MODES.includes(wanted)) res.writeHead(400).end(`unknown mode ${wanted}`);
    else {
      mode = wanted;
      res.writeHead(204).end();
    }
  } else {
    res.writeHead(404).end();
  }
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'ready', port: (server.address() as AddressInfo).port }));
});
process.on('SIGTERM', () => process.exit(0));
