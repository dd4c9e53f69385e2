import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';
import { beacon, decided, postAll, testTrace, toSink, traceIdWith } from './tail-sampling-traffic.ts';

const relays: RelayProcess[] = [];
const sinks: OtlpSink[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.stop();
  for (const sink of sinks.splice(0)) await sink.close();
});

const errorsOnly = [{ name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } }];
const keepAll = [{ name: 'all', type: 'always_sample' }];

/** Rewrites the relay's config file with other policies, everything else unchanged. */
function writePolicies(relay: RelayProcess, policies: unknown): void {
  const config = parse(readFileSync(relay.configFile, 'utf8'));
  config.tail_sampling.policies = policies;
  writeFileSync(relay.configFile, stringify(config));
}

const logged = (relay: RelayProcess, msg: string, count: number) =>
  waitFor(() => relay.logLines().filter((l) => l.msg === msg).length >= count, `log "${msg}" ×${count}`);

describe('tail sampling reload', () => {
  it('changes decisions mid-stream on file change and SIGHUP, keeps old policies on a bad file, loses no span', async () => {
    const sink = await OtlpSink.start();
    sinks.push(sink);
    const relay = await RelayProcess.start({
      ...toSink(sink.url),
      tail_sampling: { decision_wait: '4s', policies: errorsOnly },
    });
    relays.push(relay);
    const spansOf = (traceId: string) => sink.spans().filter((s) => s.traceId === traceId).length;

    // A healthy trace half-buffered under errors-only, then the file switches to keep-all.
    const a = testTrace(traceIdWith(1, 9n));
    await postAll(relay, [beacon(a, a.spans.slice(0, 3))]);
    writePolicies(relay, keepAll);
    await logged(relay, 'config reloaded', 1);
    await postAll(relay, [beacon(a, a.spans.slice(3))]);
    await decided(relay, 1);
    await waitFor(() => spansOf(a.traceId) === a.spans.length, 'trace A whole at the sink');

    // An invalid file is refused with a log line naming the key; keep-all stays.
    writePolicies(relay, [{ name: 'bad', type: 'latency', latency: { threshold_ms: 'soon' } }]);
    await logged(relay, 'config reload rejected; the running config stays', 1);
    const rejected = relay
      .logLines()
      .find((l) => l.msg === 'config reload rejected; the running config stays');
    expect(rejected?.error).toContain('tail_sampling.policies[0] (name "bad").latency.threshold_ms');
    const b = testTrace(traceIdWith(2, 9n));
    await postAll(relay, [beacon(b, b.spans)]);
    await decided(relay, 2);
    await waitFor(() => spansOf(b.traceId) === b.spans.length, 'trace B kept by the old policies');

    // SIGHUP reloads too: back to errors-only, so a healthy trace is dropped.
    writePolicies(relay, errorsOnly);
    relay.child.kill('SIGHUP');
    await waitFor(
      () => relay.logLines().some((l) => l.msg === 'config reloaded' && l.trigger === 'SIGHUP'),
      'a reload on SIGHUP',
    );
    const c = testTrace(traceIdWith(3, 9n));
    await postAll(relay, [beacon(c, c.spans)]);
    await decided(relay, 3);
    expect(await relay.stop()).toBe(0);
    expect(spansOf(c.traceId)).toBe(0);
    expect(spansOf(a.traceId)).toBe(a.spans.length);
  });

  it('edge-relay validate names the policy and key of a bad tail_sampling block', () => {
    const file = `${process.env.TMPDIR ?? '/tmp'}/edge-relay-bad-sampling-${process.pid}.yaml`;
    writeFileSync(
      file,
      stringify({
        tail_sampling: {
          policies: [{ name: 'errors', type: 'status_code', status_code: { status_codes: ['FAIL'] } }],
        },
      }),
    );
    const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
    const result = spawnSync(process.execPath, [cli, 'validate', '--config', file], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'tail_sampling.policies[0] (name "errors").status_code.status_codes[0]: must be one of',
    );
  });
});
