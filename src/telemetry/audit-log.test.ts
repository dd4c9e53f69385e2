import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from './audit-log.ts';
import { GENESIS } from './audit-record.ts';
import { describeVerification, verifyAuditLog } from './audit-verify.ts';
import { createLogger } from './logger.ts';

const log = createLogger('silent');
const rotation = { max_megabytes: 1, max_backups: 0 };

async function writeLog(path: string, events: number, fields: Record<string, unknown> = {}) {
  const audit = (await AuditLog.open({ path, rotation }, log)) as AuditLog;
  audit.record('relay.started', { config_digest: 'abc' });
  for (let i = 1; i < events; i++) audit.record('token.first_use', { token_id: `t${i}`, ...fields });
  await audit.close();
}

const tempLog = () => join(mkdtempSync(join(tmpdir(), 'edge-relay-audit-')), 'audit.jsonl');
const lines = (path: string) => readFileSync(path, 'utf8').trimEnd().split('\n');

describe('the audit log', () => {
  it('chains records by seq and the previous hash, and verifies', async () => {
    const path = tempLog();
    await writeLog(path, 3);
    const records = lines(path).map((line) => JSON.parse(line));
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(records[0]).toMatchObject({ event: 'relay.started', config_digest: 'abc', prev: GENESIS });
    expect(records[1].prev).toBe(records[0].hash);
    expect(records[2].prev).toBe(records[1].hash);
    const result = await verifyAuditLog(path);
    expect(result).toMatchObject({ records: 3, firstSeq: 1, lastSeq: 3, chains: 1, broken: undefined });
    expect(describeVerification(path, result)).toBe(`${path}: verified 3 records, seq 1–3 in 1 file(s)`);
  });

  it('carries on the chain after a restart, and past a torn last line', async () => {
    const path = tempLog();
    await writeLog(path, 2);
    await writeLog(path, 2);
    expect(lines(path).map((line) => JSON.parse(line).seq)).toEqual([1, 2, 3, 4]);
    expect((await verifyAuditLog(path)).broken).toBeUndefined();
    appendFileSync(path, '{"seq":5,"time":"2027-');
    await writeLog(path, 1);
    const result = await verifyAuditLog(path);
    expect(result.broken).toMatchObject({ line: 5, problem: expect.stringContaining('not an audit record') });
    expect(JSON.parse(lines(path)[5] as string)).toMatchObject({ seq: 5, event: 'relay.started' });
  });

  it('names the edited record, or the record after a deleted one', async () => {
    const path = tempLog();
    await writeLog(path, 5);
    const original = lines(path);
    writeFileSync(path, `${original.map((l, i) => (i === 2 ? l.replace('"t2"', '"t9"') : l)).join('\n')}\n`);
    expect((await verifyAuditLog(path)).broken).toMatchObject({
      line: 3,
      seq: 3,
      problem: expect.stringContaining('edited'),
    });
    writeFileSync(path, `${original.filter((_, i) => i !== 2).join('\n')}\n`);
    const deleted = await verifyAuditLog(path);
    expect(deleted.broken).toMatchObject({
      line: 3,
      seq: 4,
      problem: 'seq 4 follows seq 2: records in between were removed',
    });
    expect(describeVerification(path, deleted)).toBe(
      `${path}:3 (seq 4): seq 4 follows seq 2: records in between were removed`,
    );
  });

  it('rotates by size into files named by their first seq, verified as one chain, keeping max_backups', async () => {
    const path = tempLog();
    const big = 'x'.repeat(300_000);
    const audit = (await AuditLog.open(
      { path, rotation: { max_megabytes: 1, max_backups: 2 } },
      log,
    )) as AuditLog;
    for (let i = 0; i < 12; i++) audit.record('test.big', { big });
    await audit.close();
    // Three records of 300 kB fit in 1 MiB: files start at seq 1, 4, 7, 10; the oldest is deleted.
    expect(readdirSync(join(path, '..')).sort()).toEqual([
      'audit.jsonl',
      'audit.jsonl.000000000004',
      'audit.jsonl.000000000007',
    ]);
    const result = await verifyAuditLog(path);
    expect(result).toMatchObject({ records: 9, firstSeq: 4, lastSeq: 12, broken: undefined });
    expect(describeVerification(path, result)).toContain('(earlier records were rotated away)');

    const reopened = (await AuditLog.open(
      { path, rotation: { max_megabytes: 1, max_backups: 2 } },
      log,
    )) as AuditLog;
    reopened.record('test.small');
    await reopened.close();
    expect((await verifyAuditLog(path)).lastSeq).toBe(13);
  });
});
