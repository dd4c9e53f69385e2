import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import {
  createServer as createHttpsServer,
  type ServerOptions as HttpsOptions,
  Server as HttpsServer,
} from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync, zstdDecompressSync } from 'node:zlib';
import { loadProto } from '../../src/model/proto-files.ts';

const Request = loadProto('opentelemetry/proto/collector/trace/v1/trace_service.proto').lookupType(
  'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
);

/** A decoded OTLP span, flattened with its resource and scope for easy assertions. */
export interface SinkSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  flags: number;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, unknown>;
  events: { name: string; timeUnixNano: string; attributes: Record<string, unknown> }[];
  links: { traceId: string; spanId: string; attributes: Record<string, unknown> }[];
  status: { code?: number; message?: string };
  resource: Record<string, unknown>;
  scope: { name?: string; version?: string };
  raw: Record<string, unknown>;
}

export interface SinkRequest {
  headers: IncomingMessage['headers'];
  body: Buffer;
  decoded: Record<string, unknown>;
}

type Reply = (request: SinkRequest) => {
  status: number;
  headers?: Record<string, string>;
  body?: Uint8Array;
};

/** Converts OTLP AnyValue objects (protobufjs toObject form) into plain JS values. */
export function plainValue(value: Record<string, unknown> | undefined): unknown {
  if (!value) return undefined;
  if ('stringValue' in value) return value.stringValue;
  if ('boolValue' in value) return value.boolValue;
  if ('intValue' in value) return BigInt(value.intValue as string);
  if ('doubleValue' in value) return value.doubleValue;
  if ('bytesValue' in value) return Buffer.from(value.bytesValue as string, 'base64').toString('hex');
  if ('arrayValue' in value)
    return ((value.arrayValue as { values?: Record<string, unknown>[] }).values ?? []).map(plainValue);
  if ('kvlistValue' in value) return plainAttributes((value.kvlistValue as { values?: never[] }).values);
  return undefined;
}

export function plainAttributes(list: { key: string; value?: Record<string, unknown> }[] | undefined) {
  return Object.fromEntries((list ?? []).map((a) => [a.key, plainValue(a.value)]));
}

const hex = (b64: unknown): string => (b64 ? Buffer.from(b64 as string, 'base64').toString('hex') : '');

/** Decodes an ExportTraceServiceRequest body into flat spans. */
export function decodeSpans(decoded: Record<string, unknown>): SinkSpan[] {
  const out: SinkSpan[] = [];
  for (const rs of (decoded.resourceSpans ?? []) as Record<string, any>[]) {
    const resource = plainAttributes(rs.resource?.attributes);
    for (const ss of (rs.scopeSpans ?? []) as Record<string, any>[]) {
      for (const s of (ss.spans ?? []) as Record<string, any>[]) {
        out.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          traceState: s.traceState ?? '',
          flags: s.flags ?? 0,
          name: s.name,
          kind: s.kind ?? 0,
          startTimeUnixNano: String(s.startTimeUnixNano),
          endTimeUnixNano: String(s.endTimeUnixNano),
          attributes: plainAttributes(s.attributes),
          events: (s.events ?? []).map((e: Record<string, any>) => ({
            name: e.name,
            timeUnixNano: String(e.timeUnixNano),
            attributes: plainAttributes(e.attributes),
          })),
          links: (s.links ?? []).map((l: Record<string, any>) => ({
            traceId: hex(l.traceId),
            spanId: hex(l.spanId),
            attributes: plainAttributes(l.attributes),
          })),
          status: s.status ?? {},
          resource,
          scope: ss.scope ?? {},
          raw: s,
        });
      }
    }
  }
  return out;
}

const DECOMPRESS: Record<string, (body: Buffer) => Buffer> = {
  gzip: gunzipSync,
  zstd: zstdDecompressSync,
  deflate: inflateSync,
};

/** OTLP/JSON's hex ids as the base64 the protobuf JSON mapping reads, so protobufjs decodes the request. */
function hexIdsToBase64(value: unknown, key = ''): unknown {
  if (typeof value === 'string' && /^(traceId|spanId|parentSpanId)$/.test(key)) {
    return Buffer.from(value, 'hex').toString('base64');
  }
  if (Array.isArray(value)) return value.map((item) => hexIdsToBase64(item));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hexIdsToBase64(v, k)]));
  }
  return value;
}

/** A request's body as sent, and decompressed as its content-encoding says. */
export async function readBody(req: IncomingMessage): Promise<{ raw: Buffer; body: Buffer }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const decompress = DECOMPRESS[req.headers['content-encoding'] ?? ''];
  return { raw, body: decompress ? decompress(raw) : raw };
}

/** Decodes an export request (protobuf or OTLP/JSON) with protobufjs, not the relay's decoders. */
function decodeRequest(headers: IncomingHttpHeaders, body: Buffer): Record<string, unknown> {
  const message = headers['content-type']?.startsWith('application/json')
    ? Request.fromObject(hexIdsToBase64(JSON.parse(body.toString('utf8'))) as Record<string, unknown>)
    : Request.decode(body);
  return Request.toObject(message, { longs: String, bytes: String }) as Record<string, unknown>;
}

/**
 * A real OTLP/HTTP traces endpoint on 127.0.0.1 that decodes every request it gets. `reply` decides
 * the answer (default 200 with an empty ExportTraceServiceResponse), so tests can make it slow or failing.
 */
export class OtlpSink {
  readonly requests: SinkRequest[] = [];
  reply: Reply | ((request: SinkRequest) => Promise<ReturnType<Reply>>) = () => ({ status: 200 });
  #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  /**
   * Listens on `port` (0: any free one); a sink restarted on its old port is the backend coming back.
   * With `tls`, it serves HTTPS.
   */
  static async start(port = 0, tls?: HttpsOptions): Promise<OtlpSink> {
    const handler = async (req: IncomingMessage, res: ServerResponse) => {
      const { raw, body } = await readBody(req);
      const request = { headers: req.headers, body: raw, decoded: decodeRequest(req.headers, body) };
      const answer = await sink.reply(request);
      if (answer.status >= 200 && answer.status < 300) sink.requests.push(request);
      res.writeHead(answer.status, { 'content-type': 'application/x-protobuf', ...answer.headers });
      res.end(answer.body ?? Buffer.alloc(0));
    };
    const sink: OtlpSink = new OtlpSink(tls ? createHttpsServer(tls, handler) : createServer(handler));
    sink.#server.listen(port, '127.0.0.1');
    await once(sink.#server, 'listening');
    return sink;
  }

  /** Answers nothing until the returned function is called (the backend hangs), then 200 to all. */
  hold(): () => void {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.reply = async () => {
      await released;
      return { status: 200 };
    };
    return release;
  }

  get url(): string {
    const scheme = this.#server instanceof HttpsServer ? 'https' : 'http';
    return `${scheme}://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1/traces`;
  }

  /** Every span accepted so far (requests answered 2xx). */
  spans(): SinkSpan[] {
    return this.requests.flatMap((r) => decodeSpans(r.decoded));
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}
