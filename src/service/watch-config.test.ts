import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SecretVolume } from '../../test/support/secret-volume.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { createLogger } from '../telemetry/logger.ts';
import { FilesRead } from './files-read.ts';
import { loadConfig } from './load-config.ts';
import type { RelayConfig } from './relay-schema.ts';
import type { ReloadOrigin } from './reload-plan.ts';
import { watchConfig } from './watch-config.ts';

const TOKEN_1 = 'lightstep-token-1-abcdef';
const TOKEN_2 = 'lightstep-token-2-abcdef';

describe('watchConfig', () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it('reloads when a file the config references changes, as a Secret volume swaps it, and keeps watching it while it is missing', async () => {
    const volume = new SecretVolume({ token: TOKEN_1 });
    const configFile = join(mkdtempSync(join(tmpdir(), 'edge-relay-watch-')), 'relay.yaml');
    writeFileSync(
      configFile,
      stringify({ exporter: { headers: { 'lightstep-access-token': `\${file:${volume.path('token')}}` } } }),
    );
    const applied: { config: RelayConfig; origin: ReloadOrigin }[] = [];
    const rejected: string[] = [];
    const read = new FilesRead();
    loadConfig(configFile, {}, read);
    expect(read.paths).toEqual([configFile, volume.path('token')]);
    stop = watchConfig(configFile, read, createLogger('silent'), {
      apply: (config, origin) => applied.push({ config, origin }),
      rejected: (_origin, error) => rejected.push(error),
    });

    volume.publish({ token: TOKEN_2 });
    await waitFor(() => applied.length === 1, 'a reload after the volume swap', 10_000);
    expect(applied[0]?.config.exporter.headers['lightstep-access-token']).toBe(TOKEN_2);
    expect(applied[0]?.origin).toEqual({ trigger: 'file', file: volume.dir });

    // A swap that leaves the referenced file as it was reloads nothing.
    volume.publish({ token: TOKEN_2, other: 'x' });
    volume.publish({ token: TOKEN_2 });

    // The key goes missing: the reload is refused, naming the file only, and the file stays watched.
    volume.publish({ other: 'x' });
    await waitFor(() => rejected.length === 1, 'the reload refused', 10_000);
    expect(rejected[0]).toBe(
      `exporter.headers.lightstep-access-token: cannot read \${file:${volume.path('token')}}: ENOENT`,
    );
    volume.publish({ token: TOKEN_1 });
    await waitFor(() => applied.length === 2, 'a reload once the file is back', 10_000);
    expect(applied[1]?.config.exporter.headers['lightstep-access-token']).toBe(TOKEN_1);
  });
});
