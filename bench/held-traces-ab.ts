import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BeaconFactory } from './beacons.ts';
import { CONTENDERS, relayConfig, startRelay } from './contenders.ts';
import { fmt } from './report.ts';
import { runScenario } from './scenario.ts';
import { SinkClient } from './sink-client.ts';

// node bench/held-traces-ab.ts --baseline ../other-checkout/src/cli.ts [--decision-wait 30s] [--keep-all]
//   [--rate 3000] [--seconds 40] [--rounds 3] [--cpus 1]
// Another build of the relay (the baseline) and this one, both running at once on the same CPUs under
// the same open-loop load, with the bench's realistic policies (or keeping everything): what the
// machine's other work does to one it does to the other, so the pair's ratio holds where single runs
// vary by tens of percent. Prints each round's CPU per acknowledged beacon (whole process and by
// thread); peak RSS, for the memory a tail sampler's held traces take at a given decision_wait; and
// ack p99, which includes the other build's bursts on the shared CPUs, so compare it within a round
// only, never with the main bench's.

const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string' },
    'decision-wait': { type: 'string', default: '30s' },
    'keep-all': { type: 'boolean', default: false },
    rate: { type: 'string', default: '3000' },
    seconds: { type: 'string', default: '40' },
    rounds: { type: 'string', default: '3' },
    cpus: { type: 'string', default: '1' },
  },
});
if (!args.baseline) throw new Error("--baseline <path to the other build's src/cli.ts> is required");
const seconds = Number(args.seconds);
const rate = Number(args.rate);
const keepAll = args['keep-all'];
const contender = CONTENDERS.find((c) => c.id === (keepAll ? 'relay' : 'relay-sampled'));
if (!contender) throw new Error('missing contender');

const beacons = new BeaconFactory();
const sink = await SinkClient.start(undefined);
const config = relayConfig(sink.tracesUrl, 1, !keepAll, { decisionWait: args['decision-wait'] });
const builds = [
  { name: 'baseline', target: await startRelay(config, args.cpus, resolve(args.baseline)) },
  { name: 'this build', target: await startRelay(config, args.cpus) },
];
const run = (s: number) =>
  Promise.all(
    builds.map(({ target }) =>
      runScenario(contender, target, 1, sink, beacons, {
        name: 'steady',
        seconds: s,
        rate,
        connections: 32,
        drainSeconds: 60,
      }),
    ),
  );
console.log(
  `${keepAll ? 'keep all' : `realistic policies, decision_wait ${args['decision-wait']}`}, ${rate} beacons/s to each`,
);
console.log('build | whole | main | workers | other (µs of CPU per beacon) | peak RSS MB | ack p99 ms');
try {
  await run(2);
  for (let round = 0; round < Number(args.rounds); round++) {
    const results = await run(seconds);
    results.forEach((r, i) => {
      const beaconsAcked = r.accepted / r.spansPerBeacon;
      const us = (cpu: number) => fmt((cpu / beaconsAcked) * 1e6, 1);
      const t = r.threadCpu;
      console.log(
        `round ${round + 1} ${builds[i]?.name} | ${us(r.cpuSeconds)} | ${us(t.main)} | ${us(t.workers)} | ${us(t.other)} | ${fmt(r.peakRss / 1e6, 0)} | ${fmt(r.load.latency.p99, 2)}`,
      );
    });
  }
} finally {
  for (const { target } of builds) await target.process.stop();
  await sink.process.stop();
}
