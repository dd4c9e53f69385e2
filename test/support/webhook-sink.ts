import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookPayload } from '../../src/act/alertmanager.ts';

// A webhook receiver on 127.0.0.1 that checks each notice's signature as a receiver would: HMAC-SHA256
// of the raw body with the shared secret, against `X-Edge-Relay-Signature: sha256=<hex>`.

export interface ReceivedNotice {
  headers: IncomingHttpHeaders;
  body: string;
  verified: boolean;
  payload: WebhookPayload;
}

export class WebhookSink {
  readonly received: ReceivedNotice[] = [];
  /** Statuses to answer the next notices with (then 200). */
  readonly failNext: number[] = [];
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(secret: string): Promise<WebhookSink> {
    const server = createServer();
    const sink = new WebhookSink(server);
    server.on('request', async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks);
      const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
      const given = Buffer.from(String(req.headers['x-edge-relay-signature'] ?? ''));
      const verified = expected.length === given.length && timingSafeEqual(expected, given);
      const failure = sink.failNext.shift();
      if (failure === undefined) {
        sink.received.push({
          headers: req.headers,
          body: raw.toString(),
          verified,
          payload: JSON.parse(raw.toString()),
        });
      }
      res.writeHead(failure ?? (verified ? 200 : 401)).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return sink;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/alerts`;
  }

  /** Verified notices only. */
  get notices(): ReceivedNotice[] {
    return this.received.filter((n) => n.verified);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close').catch(() => {});
  }
}
