import { parseArgs } from 'node:util';
import { BeaconFactory } from './beacons.ts';
import { CONTENDERS } from './contenders.ts';
import { fmt } from './report.ts';
import { runScenario } from './scenario.ts';
import { SinkClient } from './sink-client.ts';
import { versionHealthBench } from './version-health-bench.ts';

// node bench/version-health-ab.ts [--seconds 10] [--rounds 3] [--rate 1500] [--threads 1]
// Keep-all edge-relay with version health off and on, both running, measured in alternating rounds at the
// same fixed rate, so that load, batching and the machine's other work hit both alike; prints each
// round's worker CPU per acknowledged span and the medians. The full bench (npm run bench) has the same
// comparison with one round each.

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '1500' },
    threads: { type: 'string', default: '1' },
  },
});
const seconds = Number(args.seconds);
const rounds = Number(args.rounds);
const rate = Number(args.rate);
const threads = Number(args.threads);

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

const beacons = new BeaconFactory();
const sink = await SinkClient.start(undefined);
const contenders = ['relay', 'relay-health'].map((id) => CONTENDERS.find((c) => c.id === id));
const targets = [];
for (const contender of contenders) {
  if (!contender) throw new Error('missing contender');
  targets.push({ contender, target: await contender.start(sink.tracesUrl, undefined, threads) });
}
const perSpan: Record<string, number[]> = { relay: [], 'relay-health': [] };
try {
  for (const { contender, target } of targets) {
    // Unmeasured warm-up, so that neither is measured while its code is still being compiled.
    await runScenario(contender, target, threads, sink, beacons, {
      name: 'steady',
      seconds: 2,
      rate,
      connections: 64,
      drainSeconds: 10,
    });
  }
  for (let round = 0; round < rounds; round++) {
    for (const { contender, target } of round % 2 === 0 ? targets : [...targets].reverse()) {
      const r = await runScenario(contender, target, threads, sink, beacons, {
        name: 'steady',
        seconds,
        rate,
        connections: 64,
        drainSeconds: 10,
      });
      const us = (r.threadCpu.workers / r.accepted) * 1e6;
      perSpan[contender.id]?.push(us);
      console.log(`round ${round + 1} ${contender.label}: ${fmt(us, 3)} µs of worker CPU per span`);
    }
  }
} finally {
  for (const { target } of targets) await target.process.stop();
  await sink.process.stop();
}
const off = median(perSpan.relay ?? []);
const on = median(perSpan['relay-health'] ?? []);
console.log(
  `median off ${fmt(off, 3)}, on ${fmt(on, 3)}: added ${fmt(on - off, 3)} µs per span at ${rate} beacons/s`,
);
for (const v of versionHealthBench(beacons, 2)) {
  console.log(`stage alone: ${v.name}: ${fmt(1e6 / v.spansPerSecond, 3)} µs per span`);
}
