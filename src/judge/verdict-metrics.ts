import type { FastifyInstance } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { VERDICT_METRIC, VERDICT_STATES, type VerdictSource } from './verdict.ts';

/**
 * `edge_relay_version_verdict{worker_id,candidate,baseline,state}`: 1 for each judged candidate's current
 * state and 0 for the others (as kube-state-metrics writes a state set), read from the judge at scrape time.
 */
export function registerVerdictGauge(registry: Registry, source: VerdictSource): void {
  new Gauge({
    name: VERDICT_METRIC,
    help: 'Verdict on the newest version of each EdgeWorker id against its baseline: 1 for the current state (collecting, healthy, suspect, regressed)',
    labelNames: ['worker_id', 'candidate', 'baseline', 'state'],
    registers: [registry],
    collect() {
      // Candidates replaced or expired since the last scrape must not linger.
      this.reset();
      for (const v of source.verdicts()) {
        for (const state of VERDICT_STATES) {
          this.set(
            { worker_id: v.workerId, candidate: v.candidate, baseline: v.baseline, state },
            v.state === state ? 1 : 0,
          );
        }
      }
    },
  });
}

/**
 * `GET /v1/versions` on the admin endpoint: every current verdict with its numbers, as JSON. Without a
 * judge (no version_health, or the judge off) the list is empty rather than the route missing, so that a
 * deploy gate reads "nothing judged" the same way everywhere.
 */
export function registerVersionsRoute(app: FastifyInstance, source: VerdictSource | undefined): void {
  app.get('/v1/versions', async () => ({ verdicts: source?.verdicts() ?? [] }));
}
