import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Verdict } from '../judge/verdict.ts';
import { parseDuration } from '../lib/duration.ts';

// `edge-relay versions --admin URL [--worker ID] [--wait-verdict [--timeout 10m] [--interval 5s]]`:
// the verdicts of a running relay as a table, for a deploy pipeline to gate on after an activation.
// Exit codes: 0 nothing regressed; 1 a version is regressed; 2 bad usage; 3 no verdict could be had
// (the admin endpoint did not answer, or versions were still collecting when the wait ran out).

export const VERSIONS_USAGE =
  'edge-relay versions --admin URL [--worker ID] [--wait-verdict] [--timeout 10m] [--interval 5s]';

export const EXIT = { ok: 0, regressed: 1, usage: 2, undecided: 3 } as const;

interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
}

const CONSOLE: Output = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** Fixed-width columns: a table a person reads in a CI log and `awk` can still split. */
export function verdictTable(verdicts: readonly Verdict[]): string {
  const rows = [
    ['WORKER', 'CANDIDATE', 'BASELINE', 'STATE', 'MODE', 'REQUESTS', 'REASON'],
    ...verdicts.map((v) => [
      v.workerId,
      v.candidate,
      v.baseline,
      v.state,
      v.mode,
      `${v.requests.candidate}/${v.requests.baseline}`,
      v.reason,
    ]),
  ];
  const widths = rows[0]
    ?.slice(0, -1)
    .map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)));
  return rows
    .map((row) =>
      row
        .map((text, i) => (i < (widths?.length ?? 0) ? text.padEnd(widths?.[i] as number) : text))
        .join('  '),
    )
    .join('\n');
}

async function fetchVerdicts(admin: string, timeout: number): Promise<Verdict[]> {
  const response = await fetch(new URL('/v1/versions', admin), { signal: AbortSignal.timeout(timeout) });
  if (!response.ok) throw new Error(`${admin}/v1/versions answered HTTP ${response.status}`);
  return ((await response.json()) as { verdicts: Verdict[] }).verdicts;
}

/** Runs the subcommand on its arguments (after `versions`); returns the exit code. */
export async function versionsCommand(args: string[], output: Output = CONSOLE): Promise<number> {
  let values: {
    admin?: string;
    worker?: string;
    'wait-verdict'?: boolean;
    timeout: string;
    interval: string;
  };
  let timeout: number;
  let interval: number;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        admin: { type: 'string' },
        worker: { type: 'string' },
        'wait-verdict': { type: 'boolean' },
        timeout: { type: 'string', default: '10m' },
        interval: { type: 'string', default: '5s' },
      },
    }));
    if (!values.admin)
      throw new Error('--admin URL is required (the admin endpoint, e.g. http://127.0.0.1:8888)');
    new URL(values.admin);
    timeout = parseDuration('--timeout', values.timeout);
    interval = parseDuration('--interval', values.interval);
  } catch (err) {
    output.err(`${(err as Error).message}\nusage: ${VERSIONS_USAGE}`);
    return EXIT.usage;
  }
  const deadline = Date.now() + timeout;
  const admin = values.admin;
  for (;;) {
    let verdicts: Verdict[] | undefined;
    let problem = '';
    try {
      // A slow answer is waited for (up to 10 s), but not past the deadline of a wait.
      const all = await fetchVerdicts(admin, Math.max(1000, Math.min(10_000, deadline - Date.now())));
      verdicts = values.worker === undefined ? all : all.filter((v) => v.workerId === values.worker);
    } catch (err) {
      problem = (err as Error).message;
    }
    const collecting =
      verdicts === undefined || verdicts.length === 0 || verdicts.some((v) => v.state === 'collecting');
    // A regression is final: no need to wait for the other versions once one is regressed.
    const regressed = verdicts?.some((v) => v.state === 'regressed') ?? false;
    if (!values['wait-verdict'] || regressed || !collecting || Date.now() + interval > deadline) {
      if (verdicts === undefined) {
        output.err(`no verdicts: ${problem}`);
        return EXIT.undecided;
      }
      output.out(verdicts.length > 0 ? verdictTable(verdicts) : 'no EdgeWorker versions judged yet');
      if (regressed) return EXIT.regressed;
      if (values['wait-verdict'] && collecting) {
        output.err(`still collecting after ${values.timeout}`);
        return EXIT.undecided;
      }
      return EXIT.ok;
    }
    await sleep(interval);
  }
}
