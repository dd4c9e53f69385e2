import type { FastifyInstance } from 'fastify';
import type { VerdictSource } from '../judge/verdict.ts';
import type { VersionActions } from './version-actions.ts';
import { versionsPage } from './versions-page.ts';

/** GET /versions on the admin server: the page of verdicts, their history and the actions taken. */
export function registerVersionsPage(
  admin: FastifyInstance,
  source: VerdictSource,
  running: VersionActions,
  dryRun: boolean | undefined,
): void {
  admin.get('/versions', async (_request, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return versionsPage({
      verdicts: source.verdicts(),
      history: (verdict) => running.history.of(verdict),
      actions: (workerId) => running.actions.records(workerId),
      dryRun,
      now: Date.now(),
    });
  });
}
