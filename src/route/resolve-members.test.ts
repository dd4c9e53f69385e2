import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { dnsCandidates } from './resolve-members.ts';

let server: Socket | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** A DNS server on 127.0.0.1 answering A queries with `addresses` (none: NXDOMAIN), AAAA with nothing. */
async function dnsServer(addresses: string[]): Promise<string> {
  server = createSocket('udp4');
  server.on('message', (query, peer) => {
    const questionEnd = query.indexOf(0, 12) + 5;
    const type = query.readUInt16BE(questionEnd - 4);
    const answers = type === 1 ? addresses : [];
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    header.writeUInt16BE(addresses.length === 0 ? 0x8183 : 0x8180, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const records = answers.map((ip) => {
      const record = Buffer.alloc(16);
      record.writeUInt16BE(0xc00c, 0);
      record.writeUInt16BE(1, 2);
      record.writeUInt16BE(1, 4);
      record.writeUInt32BE(5, 6);
      record.writeUInt16BE(4, 10);
      Buffer.from(ip.split('.').map(Number)).copy(record, 12);
      return record;
    });
    server?.send(
      Buffer.concat([header, query.subarray(12, questionEnd), ...records]),
      peer.port,
      peer.address,
    );
  });
  server.bind(0, '127.0.0.1');
  await once(server, 'listening');
  return `127.0.0.1:${server.address().port}`;
}

const dns = { hostname: 'relay-peers.obs.svc.cluster.local', port: 4318, interval: 5000, timeout: 1000 };

describe('dnsCandidates', () => {
  it('turns every address of the headless Service into a receiver URL', async () => {
    const resolve = dnsCandidates(dns, [await dnsServer(['10.0.0.5', '10.0.0.6'])]);
    expect((await resolve()).sort()).toEqual(['http://10.0.0.5:4318', 'http://10.0.0.6:4318']);
  });

  it('fails when the name resolves to nothing, so the last known peers are kept', async () => {
    const resolve = dnsCandidates(dns, [await dnsServer([])]);
    await expect(resolve()).rejects.toThrow('resolved to no address');
  });
});
