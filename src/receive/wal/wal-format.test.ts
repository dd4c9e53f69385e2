import { appendFileSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommitBuffer, listSegments, RecordKind, readSegment, sealFrame, segmentFile } from './wal-format.ts';

const tempDir = () => mkdtempSync(join(tmpdir(), 'wal-format-'));

/** One frame holding a beacon (as text), a beacon (as bytes) and an OTLP part, as the writer writes it. */
function frame(buffer: CommitBuffer, n: number): Buffer {
  buffer.add(
    RecordKind.beacon,
    { hops: 0, shard: 1, shards: 2, spans: 6, ip: '203.0.113.9', identity: 'oidc:collector é' },
    `{"n":${n},"é":1}`,
    undefined,
  );
  buffer.add(
    RecordKind.beacon,
    { hops: 0, shard: 0, shards: 2, spans: 2, ip: '::1', identity: '' },
    undefined,
    Buffer.from('{"x":2}'),
  );
  buffer.add(
    RecordKind.otlp,
    { hops: 1, shard: 1, shards: 2, spans: 3, ip: '10.0.0.1', identity: 'token:peers' },
    undefined,
    new Uint8Array([1, 2, 3]),
  );
  const { buffer: taken, length } = buffer.take();
  const bytes = new Uint8Array(taken, 0, length);
  sealFrame(bytes);
  const copy = Buffer.from(bytes);
  buffer.recycle(taken);
  return copy;
}

describe('write-ahead log segments', () => {
  it('read back every record of every frame, text and bytes alike, with its sender', () => {
    const file = join(tempDir(), segmentFile(7));
    const buffer = new CommitBuffer(64);
    writeFileSync(file, Buffer.concat([frame(buffer, 1), frame(buffer, 2)]));
    const { records, unreadableBytes } = readSegment(file);
    expect(unreadableBytes).toBe(0);
    const first = [
      [1, 0, 1, 2, 6, '203.0.113.9', 'oidc:collector é'],
      [1, 0, 0, 2, 2, '::1', ''],
      [2, 1, 1, 2, 3, '10.0.0.1', 'token:peers'],
    ];
    expect(records.map((r) => [r.kind, r.hops, r.shard, r.shards, r.spans, r.ip, r.identity])).toEqual([
      ...first,
      ...first,
    ]);
    expect(records[0]?.data.toString('utf8')).toBe('{"n":1,"é":1}');
    expect(records[1]?.data.toString('utf8')).toBe('{"x":2}');
    expect([...(records[5]?.data ?? [])]).toEqual([1, 2, 3]);
  });

  it('stop at a torn last frame, which was never acknowledged, and at a frame that fails its checksum', () => {
    const dir = tempDir();
    const buffer = new CommitBuffer();
    const torn = join(dir, segmentFile(1));
    const good = frame(buffer, 1);
    writeFileSync(torn, Buffer.concat([good, frame(buffer, 2)]));
    truncateSync(torn, good.length + 20);
    expect(readSegment(torn)).toMatchObject({ unreadableBytes: 20 });
    expect(readSegment(torn).records).toHaveLength(3);

    const damaged = join(dir, segmentFile(2));
    const second = frame(buffer, 2);
    second[second.length - 1] = (second[second.length - 1] as number) ^ 0xff;
    writeFileSync(damaged, Buffer.concat([good, second]));
    appendFileSync(damaged, frame(buffer, 3));
    const contents = readSegment(damaged);
    expect(contents.records).toHaveLength(3);
    expect(contents.unreadableBytes).toBe(readFileSync(damaged).length - good.length);
  });

  it('are listed oldest first, other files ignored', () => {
    const dir = tempDir();
    for (const name of [segmentFile(10), segmentFile(2), 'notes.txt', `${segmentFile(3)}.tmp`]) {
      writeFileSync(join(dir, name), '');
    }
    expect(listSegments(dir)).toEqual([2, 10]);
  });

  it('grow the commit buffer for a record larger than it', () => {
    const buffer = new CommitBuffer(32);
    const text = 'x'.repeat(10_000);
    buffer.add(
      RecordKind.beacon,
      { hops: 0, shard: 0, shards: 1, spans: 1, ip: '', identity: '' },
      text,
      undefined,
    );
    expect(buffer.records).toBe(1);
    const { buffer: taken, length } = buffer.take();
    sealFrame(new Uint8Array(taken, 0, length));
    const file = join(tempDir(), segmentFile(0));
    writeFileSync(file, new Uint8Array(taken, 0, length));
    expect(readSegment(file).records[0]?.data.toString()).toBe(text);
  });
});
