import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

// A real headless browser for the admin pages: Debian's chromium (CHROMIUM, or chromium on PATH).
// Tests that need it skip, saying so, where there is none.

export const CHROMIUM =
  process.env.CHROMIUM ??
  (process.env.PATH ?? '')
    .split(delimiter)
    .flatMap((dir) => ['chromium', 'chromium-browser'].map((name) => join(dir, name)))
    .find((file) => existsSync(file));

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Asynchronous, so that a page served by this same process can be answered while the browser loads it. */
async function run(args: string[]): Promise<string> {
  const { stdout } = await exec(
    CHROMIUM as string,
    // Root in a container has no user namespace for the sandbox; the page is the relay's own.
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--hide-scrollbars', ...args],
    { encoding: 'utf8', timeout: 60_000, maxBuffer: 32 * 1024 * 1024 },
  );
  return stdout;
}

/** The page as the browser built it (after parsing, as its DOM). */
export const dumpDom = (url: string): Promise<string> => run(['--dump-dom', url]);

/** A screenshot of the page; throws unless the browser wrote a PNG. */
export async function screenshot(url: string, size = '1280,1800'): Promise<Buffer> {
  const file = join(mkdtempSync(join(tmpdir(), 'edge-relay-shot-')), 'page.png');
  await run([`--screenshot=${file}`, `--window-size=${size}`, url]);
  const png = readFileSync(file);
  if (!png.subarray(0, 8).equals(PNG_MAGIC)) throw new Error(`${file} is not a PNG`);
  return png;
}
