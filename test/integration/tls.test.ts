import { once } from 'node:events';
import { copyFileSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beaconWithTrace, SPANS_PER_BEACON } from '../support/beacons.ts';
import { type TestPki, testPki } from '../support/certs.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';

interface Answer {
  status: number;
  /** The serial of the certificate the relay presented. */
  serial: string;
}

/** POSTs a beacon over HTTPS, trusting `ca`, presenting a client certificate when given one. */
function postBeacon(
  port: number,
  ca: string,
  client?: { certFile: string; keyFile: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/beacons',
        method: 'POST',
        ca,
        headers: { 'content-type': 'application/json' },
        agent: false,
        ...(client ? { cert: readFileSync(client.certFile), key: readFileSync(client.keyFile) } : {}),
      },
      (res) => {
        const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, serial }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(beaconWithTrace()));
  });
}

/** An HTTP CONNECT proxy on 127.0.0.1 that counts the tunnels it opened. */
async function connectProxy(): Promise<{ url: string; tunnels: () => number; close: () => void }> {
  let tunnels = 0;
  const server: Server = createServer((client) => {
    client.once('data', (head) => {
      const [, target] = /^CONNECT (\S+) HTTP/.exec(head.toString()) ?? [];
      if (!target) return client.destroy();
      const [host, port] = target.split(':') as [string, string];
      const upstream = new Socket();
      upstream.connect(Number(port), host, () => {
        tunnels++;
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client).pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels: () => tunnels,
    close: () => server.close(),
  };
}

describe('TLS', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = testPki();
  });

  describe('on the receiver', () => {
    const relays: RelayProcess[] = [];
    afterAll(async () => {
      for (const relay of relays) await relay.stop();
    });

    // With receiver threads each thread serves HTTPS itself and watches the files itself.
    it.each([1, 2])(
      'serves HTTPS with mutual TLS, and swaps its certificate when the files change (%i receiver threads)',
      async (threads) => {
        const issued = pki.issue(`relay-1-${threads}`);
        // The relay reads the files at these paths; the test overwrites them in place later.
        const served = {
          certFile: `${pki.dir}/served-${threads}.pem`,
          keyFile: `${pki.dir}/served-${threads}.key`,
        };
        copyFileSync(issued.certFile, served.certFile);
        copyFileSync(issued.keyFile, served.keyFile);
        const relay = await RelayProcess.start({
          receiver: {
            endpoint: '127.0.0.1:0',
            threads,
            tls: { cert_file: served.certFile, key_file: served.keyFile, client_ca_file: pki.caFile },
          },
        });
        relays.push(relay);
        const client = pki.issue('edge-client');

        const answer = await postBeacon(relay.receiverPort, pki.ca, client);
        expect(answer).toEqual({ status: 202, serial: issued.serial });
        await expect(postBeacon(relay.receiverPort, pki.ca)).rejects.toThrow();

        const renewed = pki.issue(`relay-2-${threads}`);
        copyFileSync(renewed.keyFile, served.keyFile);
        copyFileSync(renewed.certFile, served.certFile);
        const reloaded = () =>
          relay.logLines().filter((line) => line.msg === 'receiver TLS certificates reloaded');
        await waitFor(
          () => new Set(reloaded().map((line) => line.receiver_thread)).size === threads,
          'every receiver to load the renewed certificate',
        );
        // Each on a connection of its own, so the kernel picks a thread for each (both, but with
        // probability 2 × 2^-16, when there are two).
        for (let n = 0; n < 16; n++) {
          expect(await postBeacon(relay.receiverPort, pki.ca, client)).toEqual({
            status: 202,
            serial: renewed.serial,
          });
        }
        expect(await relay.metric('edge_relay_spans_received_total', { result: 'accepted' })).toBeGreaterThan(
          0,
        );
      },
    );
  });

  describe('towards the backend', () => {
    it.each([
      ['a CA of its own', (p: TestPki) => ({ ca_file: p.caFile }), false],
      ['insecure_skip_verify', () => ({ insecure_skip_verify: true }), false],
      [
        'a client certificate (mutual TLS)',
        (p: TestPki) => {
          const client = p.issue('relay-as-client');
          return { ca_file: p.caFile, cert_file: client.certFile, key_file: client.keyFile };
        },
        true,
      ],
    ])('delivers to an HTTPS backend with %s', async (_, tls, mutual) => {
      const server = pki.issue('backend');
      const sink = await OtlpSink.start(0, {
        cert: readFileSync(server.certFile),
        key: readFileSync(server.keyFile),
        ...(mutual ? { ca: pki.ca, requestCert: true, rejectUnauthorized: true } : {}),
      });
      const relay = await RelayProcess.start({
        exporter: { endpoint: sink.url.replace('/v1/traces', ''), tls: tls(pki) },
        batch: { timeout: '10ms' },
      });
      try {
        expect((await relay.post('/v1/beacons', JSON.stringify(beaconWithTrace()))).status).toBe(202);
        await waitFor(() => sink.spans().length === SPANS_PER_BEACON, 'the backend to receive the spans');
      } finally {
        await relay.stop();
        await sink.close();
      }
    });

    it('refuses a backend certificate it cannot verify, counting the retries', async () => {
      const server = pki.issue('unknown-backend');
      const sink = await OtlpSink.start(0, {
        cert: readFileSync(server.certFile),
        key: readFileSync(server.keyFile),
      });
      const relay = await RelayProcess.start({
        exporter: { traces_endpoint: sink.url, retry_on_failure: { initial_interval: '50ms' } },
        batch: { timeout: '10ms' },
      });
      try {
        expect((await relay.post('/v1/beacons', JSON.stringify(beaconWithTrace()))).status).toBe(202);
        await waitFor(
          async () =>
            (await relay.metric('edge_relay_export_requests_total', { outcome: 'retryable_error' })) >= 2,
          'retries of the unverifiable backend',
        );
        expect(sink.spans()).toHaveLength(0);
      } finally {
        await relay.stop('SIGKILL');
        await sink.close();
      }
    });

    it('sends through proxy_url', async () => {
      const sink = await OtlpSink.start();
      const proxy = await connectProxy();
      const relay = await RelayProcess.start({
        exporter: { traces_endpoint: sink.url, proxy_url: proxy.url },
        batch: { timeout: '10ms' },
      });
      try {
        expect((await relay.post('/v1/beacons', JSON.stringify(beaconWithTrace()))).status).toBe(202);
        await waitFor(() => sink.spans().length === SPANS_PER_BEACON, 'the backend to receive the spans');
        expect(proxy.tunnels()).toBeGreaterThan(0);
      } finally {
        await relay.stop();
        await sink.close();
        proxy.close();
      }
    });
  });
});
