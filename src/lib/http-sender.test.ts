import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Attempt, HttpSender, postOnce, type SenderOptions } from './http-sender.ts';
import type { RetryConfig } from './retry.ts';

const retry: RetryConfig = {
  enabled: true,
  initial_interval: 1,
  randomization_factor: 0,
  multiplier: 1,
  max_interval: 1,
  max_elapsed_time: 0,
};

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** A backend on 127.0.0.1 answering each request with the next reply (then 200). */
async function backend(replies: Reply[]) {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
    const reply = replies.shift() ?? { status: 200 };
    res.writeHead(reply.status, reply.headers).end(reply.body);
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, received };
}

function sender(options: Partial<SenderOptions> = {}) {
  const attempts: Attempt['outcome'][] = [];
  const http = new HttpSender({
    retry,
    timeout: 1000,
    onAttempt: (attempt) => attempts.push(attempt.outcome),
    ...options,
  });
  return { http, attempts };
}

const request = (url: string) => ({
  url,
  headers: { 'content-type': 'text/plain' },
  body: new TextEncoder().encode('spans'),
});

describe('postOnce', () => {
  it('posts the body with the headers and returns the answer of a 2xx', async () => {
    const { url, received } = await backend([{ status: 200, body: 'thanks' }]);
    const attempt = await postOnce(request(url), 1000);
    expect(attempt).toEqual({ outcome: 'ok', answer: new TextEncoder().encode('thanks') });
    expect(received).toEqual([
      { headers: expect.objectContaining({ 'content-type': 'text/plain' }), body: 'spans' },
    ]);
  });

  it('sends a GET without its body when asked, and returns the answer', async () => {
    const methods: string[] = [];
    const { url, received } = await backend([{ status: 200, body: '{"activations":[]}' }]);
    const spy: typeof fetch = (input, init) => {
      methods.push(String(init?.method));
      return fetch(input, init);
    };
    const attempt = await postOnce({ ...request(url), method: 'GET' }, 1000, spy);
    expect(attempt).toEqual({ outcome: 'ok', answer: new TextEncoder().encode('{"activations":[]}') });
    expect(methods).toEqual(['GET']);
    expect(received[0]?.body).toBe('');
  });

  it('tells retryable answers (with their Retry-After) from permanent ones', async () => {
    const { url } = await backend([
      { status: 429, headers: { 'retry-after': '3' } },
      { status: 503 },
      { status: 400 },
    ]);
    expect(await postOnce(request(url), 1000)).toEqual({
      outcome: 'retryable',
      retryAfter: 3000,
      detail: 'HTTP 429',
    });
    expect(await postOnce(request(url), 1000)).toEqual({
      outcome: 'retryable',
      retryAfter: undefined,
      detail: 'HTTP 503',
    });
    expect(await postOnce(request(url), 1000)).toEqual({ outcome: 'permanent', detail: 'HTTP 400' });
  });

  it('counts a network error or a timeout as retryable', async () => {
    const refused = await postOnce(request('http://127.0.0.1:1/v1/traces'), 1000);
    expect(refused.outcome).toBe('retryable');
    const hanging = (_url: unknown, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
      );
    const timedOut = await postOnce(request('http://127.0.0.1:1/'), 5, hanging);
    expect(timedOut).toMatchObject({
      outcome: 'retryable',
      detail: expect.stringMatching(/timeout|aborted/i),
    });
  });
});

describe('HttpSender.deliver', () => {
  it('retries until the request is taken, telling of every attempt', async () => {
    const { url, received } = await backend([{ status: 503 }, { status: 502 }]);
    const { http, attempts } = sender();
    expect(await http.deliver(request(url))).toMatchObject({ outcome: 'delivered' });
    expect(received).toHaveLength(3);
    expect(attempts).toEqual(['retryable', 'retryable', 'ok']);
  });

  it('drops a refused request at once', async () => {
    const { url, received } = await backend([{ status: 400 }]);
    expect(await sender().http.deliver(request(url))).toEqual({
      outcome: 'dropped',
      cause: 'rejected',
      detail: 'HTTP 400',
    });
    expect(received).toHaveLength(1);
  });

  it('does not retry when retry_on_failure is disabled', async () => {
    const { url } = await backend([{ status: 503 }]);
    const { http } = sender({ retry: { ...retry, enabled: false } });
    expect(await http.deliver(request(url))).toEqual({
      outcome: 'dropped',
      cause: 'not_retried',
      detail: 'HTTP 503',
    });
  });

  it('gives up when the next retry would pass max_elapsed_time, a Retry-After included', async () => {
    const { url, received } = await backend([{ status: 503, headers: { 'retry-after': '60' } }]);
    const { http } = sender({ retry: { ...retry, max_elapsed_time: 30_000 } });
    expect(await http.deliver(request(url))).toEqual({
      outcome: 'dropped',
      cause: 'retry_exhausted',
      detail: 'HTTP 503',
    });
    expect(received).toHaveLength(1);
  });

  it('backs off with jitter between retries, unless the server says when (Retry-After)', async () => {
    const { url } = await backend([
      { status: 503 },
      { status: 429, headers: { 'retry-after': '0' } },
      { status: 503 },
    ]);
    let draws = 0;
    const random = () => {
      draws++;
      return 0.5;
    };
    const { http } = sender({ random });
    expect(await http.deliver(request(url))).toMatchObject({ outcome: 'delivered' });
    expect(draws).toBe(2);
  });

  it('at the shutdown deadline drops the request, or keeps it when asked to', async () => {
    const { url } = await backend([
      { status: 503, headers: { 'retry-after': '60' } },
      { status: 503, headers: { 'retry-after': '60' } },
    ]);
    const { http } = sender();
    http.stopBy(Date.now() + 10_000);
    expect(await http.deliver(request(url))).toEqual({
      outcome: 'dropped',
      cause: 'shutdown',
      detail: 'HTTP 503; shutdown deadline reached',
    });
    expect(await http.deliver(request(url), { keepAtShutdown: true })).toEqual({ outcome: 'kept' });
  });

  it('stops before an attempt once the request is no longer wanted', async () => {
    const { url, received } = await backend([{ status: 503 }]);
    let wanted = true;
    const { http } = sender({ onAttempt: () => (wanted = false) });
    expect(await http.deliver(request(url), { wanted: () => wanted })).toEqual({ outcome: 'unwanted' });
    expect(received).toHaveLength(1);
  });

  it('ends as abandoned, untold, when abandoned while a request is out', async () => {
    const { http, attempts } = sender({
      fetch: async () => {
        http.abandon();
        return new Response(null, { status: 200 });
      },
    });
    expect(await http.deliver(request('http://127.0.0.1:1/'))).toEqual({ outcome: 'abandoned' });
    expect(attempts).toEqual([]);
    expect(await http.deliver(request('http://127.0.0.1:1/'))).toEqual({ outcome: 'abandoned' });
  });
});
