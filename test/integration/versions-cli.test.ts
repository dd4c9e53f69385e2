import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/judge/verdict.ts';
import { cli } from '../support/cli.ts';
import { verdict } from '../support/verdicts.ts';

// `edge-relay versions` against an admin endpoint that answers GET /v1/versions as the judge's does.

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/** Answers each GET /v1/versions with the next list of verdicts (the last one from then on). */
async function admin(answers: Verdict[][]): Promise<{ url: string; asked: () => number }> {
  let asked = 0;
  const server = createServer((req, res) => {
    if (req.url !== '/v1/versions') return void res.writeHead(404).end();
    const verdicts = answers[Math.min(asked++, answers.length - 1)];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ verdicts }));
  }).listen(0, '127.0.0.1');
  servers.push(server);
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked: () => asked };
}

const other = verdict('healthy', { workerId: '7', candidate: '2.0.1', baseline: '2.0.0' });

describe('edge-relay versions', () => {
  it('prints the table and exits 1 on a regressed version', async () => {
    const { url } = await admin([[verdict('regressed'), other]]);
    const result = await cli('versions', '--admin', url);
    expect(result.code).toBe(1);
    const [header, first, second] = result.stdout.trim().split('\n');
    expect(header).toMatch(/^WORKER\s+CANDIDATE\s+BASELINE\s+STATE\s+MODE\s+REQUESTS\s+REASON$/);
    expect(first).toMatch(/^42817\s+1\.4\.3\s+1\.4\.2\s+regressed\s+side_by_side\s+4000\/4000\s+error rate/);
    expect(second).toMatch(/^7\s+2\.0\.1\s+2\.0\.0\s+healthy/);
  });

  it('exits 0 when the worker asked for is not regressed', async () => {
    const { url } = await admin([[verdict('regressed'), other]]);
    const result = await cli('versions', '--admin', url, '--worker', '7');
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('42817');
  });

  it('with --wait-verdict, polls while the version is collecting, then gates on the verdict', async () => {
    const collecting = verdict('collecting');
    const { url, asked } = await admin([[collecting], [collecting], [verdict('healthy')]]);
    const result = await cli('versions', '--admin', url, '--wait-verdict', '--interval', '10ms');
    expect(result.code).toBe(0);
    expect(asked()).toBe(3);
    expect(result.stdout).toMatch(/42817\s+1\.4\.3\s+1\.4\.2\s+healthy/);

    const regressing = await admin([[collecting], [verdict('regressed')]]);
    expect(
      (await cli('versions', '--admin', regressing.url, '--wait-verdict', '--interval', '10ms')).code,
    ).toBe(1);
  });

  it('exits 3 when still collecting at the timeout, or when the admin endpoint does not answer', async () => {
    const { url } = await admin([[verdict('collecting')]]);
    const waited = await cli(
      'versions',
      '--admin',
      url,
      '--wait-verdict',
      '--interval',
      '10ms',
      '--timeout',
      '200ms',
    );
    expect(waited.code).toBe(3);
    expect(waited.stderr).toContain('still collecting after 200ms');
    const unreachable = await cli('versions', '--admin', 'http://127.0.0.1:1');
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain('no verdicts');
  });

  it('exits 2 on bad usage', async () => {
    const result = await cli('versions');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--admin URL is required');
  });
});
