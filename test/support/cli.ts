import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;

/** Runs the CLI to its exit; one still running after 30 s is killed (and its `code` is null). */
export async function cli(
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number | null; killed: boolean; stdout: string; stderr: string };
    return { code: e.killed ? null : e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
