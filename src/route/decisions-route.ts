import type { FastifyInstance } from 'fastify';
import { invalid, shuttingDown } from '../lib/errors.ts';
import type { SharedDecision } from '../sample/trace-holder.ts';

export const DECISIONS_PATH = '/v1/cluster/decisions';

const TRACE_ID = /^[0-9a-f]{32}$/;

function readDecisions(body: Buffer): SharedDecision[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw invalid(`body is not valid JSON: ${(err as Error).message}`);
  }
  const decisions = (parsed as { decisions?: unknown })?.decisions;
  if (!Array.isArray(decisions)) throw invalid('body must be {"decisions": [...]}');
  for (const [i, d] of decisions.entries()) {
    const decision = d as Partial<SharedDecision>;
    if (typeof decision?.traceId !== 'string' || !TRACE_ID.test(decision.traceId)) {
      throw invalid(`decisions[${i}].traceId must be 32 lowercase hex digits`);
    }
    if (typeof decision.sampled !== 'boolean') throw invalid(`decisions[${i}].sampled must be a boolean`);
    if (decision.threshold !== undefined && !/^\d+$/.test(String(decision.threshold))) {
      throw invalid(`decisions[${i}].threshold must be a decimal integer string`);
    }
  }
  return decisions as SharedDecision[];
}

/**
 * POST /v1/cluster/decisions: a replica that hands traces over (it leaves, or the membership changed)
 * sends its decisions for them, so late spans reaching the new owner follow the decision already made.
 * `deliver` hands them to the shards that own their traces; the answer does not wait for them.
 */
export function registerDecisionsRoute(
  app: FastifyInstance,
  accepting: () => boolean,
  deliver: (decisions: SharedDecision[]) => void,
): void {
  app.post(DECISIONS_PATH, (request, reply) => {
    const decisions = readDecisions(request.body as Buffer);
    if (!accepting()) throw shuttingDown();
    deliver(decisions);
    reply.code(204).send();
  });
}
