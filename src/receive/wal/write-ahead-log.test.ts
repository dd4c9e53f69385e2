import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait-for.ts';
import { resolveConfig } from '../../service/load-config.ts';
import { createLogger } from '../../telemetry/logger.ts';
import {
  allocateSettledSegments,
  SettledSegmentsReader,
  SettledSegmentsWriter,
} from '../../telemetry/settled-segments.ts';
import { listSegments, readSegment, segmentPath } from './wal-format.ts';
import { WriteAheadLog } from './write-ahead-log.ts';

const SEGMENT_BYTES = 65536;

function openLog(directory = join(mkdtempSync(join(tmpdir(), 'wal-')), 'wal')) {
  const config = resolveConfig({
    receiver: {
      durability: 'wal',
      wal: { directory, segment_max_bytes: SEGMENT_BYTES, segment_max_age: '1h', commit_interval: '1ms' },
    },
  }).receiver.wal;
  const settled = allocateSettledSegments(1);
  const registry = new Registry();
  const wal = new WriteAheadLog(
    config,
    1,
    new SettledSegmentsReader(settled),
    registry,
    createLogger('silent'),
    (error) => {
      throw error;
    },
  );
  const commits = async (outcome: string) =>
    (await registry.getSingleMetric('edge_relay_wal_commits_total')?.get())?.values.find(
      (v) => v.labels.outcome === outcome,
    )?.value ?? 0;
  return { wal, directory, worker: new SettledSegmentsWriter(settled, 0), commits };
}

/** Appends a beacon and resolves with its commit's outcome. */
const append = (wal: WriteAheadLog, text: string, spans = 1) =>
  new Promise<{ error: Error | undefined; segment: number }>((resolve) =>
    wal.beacon(0, { ip: '127.0.0.1', identity: '' }, text, spans, (error, segment) =>
      resolve({ error, segment }),
    ),
  );

describe('WriteAheadLog', () => {
  const logs: WriteAheadLog[] = [];
  afterEach(async () => {
    for (const wal of logs.splice(0)) await wal.close();
  });

  it('acknowledges every request of one turn with one group commit, on disk before the callback', async () => {
    const { wal, directory, commits } = openLog();
    logs.push(wal);
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => append(wal, `{"n":${i}}`)));
    expect(outcomes.every((o) => o.error === undefined && o.segment === 0)).toBe(true);
    expect(await commits('success')).toBe(1);
    const { records } = readSegment(segmentPath(directory, 0));
    expect(records.map((r) => r.data.toString())).toEqual(outcomes.map((_, i) => `{"n":${i}}`));
  });

  it('closes a full segment and deletes it once the workers have settled its spans', async () => {
    const { wal, directory, worker } = openLog();
    logs.push(wal);
    const big = await append(wal, `"${'x'.repeat(SEGMENT_BYTES)}"`, 5);
    const next = await append(wal, '{}', 2);
    expect([big.segment, next.segment]).toEqual([0, 1]);
    expect(listSegments(directory)).toEqual([0, 1]);
    // Segment 1 stays however settled it is: it is open (when a segment goes is SegmentTable's test).
    worker.add(1, 2);
    worker.add(0, 5);
    await waitFor(() => listSegments(directory).join() === '1', 'segment 0 to be deleted');
  });

  it('refuses the requests of a commit that cannot be written, and goes on in a new segment', async () => {
    const { wal, directory, commits } = openLog();
    logs.push(wal);
    // Segment 1 cannot be created: a directory has its name.
    mkdirSync(segmentPath(directory, 1));
    expect((await append(wal, `"${'x'.repeat(SEGMENT_BYTES)}"`)).segment).toBe(0);
    const refused = await append(wal, '{}');
    expect(refused.error).toMatchObject({ statusCode: 503, reason: 'wal_failed' });
    const next = await append(wal, '{"after":1}');
    expect(next).toEqual({ error: undefined, segment: 2 });
    expect(await commits('failure')).toBe(1);
    expect(readSegment(segmentPath(directory, 2)).records.map((r) => r.data.toString())).toEqual([
      '{"after":1}',
    ]);
    expect(listSegments(directory)).toEqual([0, 2]);
  });
});
