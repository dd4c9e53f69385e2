import { describe, expect, it } from 'vitest';
import { Handoff, type ShardPort } from './handoff.ts';
import type { FromReceiver } from './messages.ts';
import { allocatePostedCounts, PostedCounts, PostedReader } from './posted-counts.ts';
import { allocateTakenBytes, TakenBytesWriter, takenFrom } from './taken-bytes.ts';

/** Two receivers' hand-offs to two shards, each shard taking up what it is posted only when told to. */
function twoByTwo(maxPendingBytes: number) {
  const buffer = allocateTakenBytes(2, 2);
  const posted = allocatePostedCounts(2, 2);
  const shards = [0, 1].map((shard) => new TakenBytesWriter(buffer, 2, shard));
  const inbox: { receiver: number; shard: number; message: FromReceiver }[] = [];
  const receivers = [0, 1].map((receiver) => {
    const port: ShardPort = { size: 2, post: (shard, message) => inbox.push({ receiver, shard, message }) };
    const counts = { posted: new PostedCounts(posted, 2, receiver), taken: takenFrom(buffer, 2, receiver) };
    return new Handoff(port, counts, maxPendingBytes);
  });
  const takeUp = () => {
    for (const { receiver, shard, message } of inbox.splice(0))
      if (message.type === 'beacons') shards[shard]?.add(receiver, message.bytes);
  };
  return { receivers, inbox, takeUp, posted: new PostedReader(posted, 2) };
}

const beacon = '{"traceId":"x"}';
const FROM = { ip: '127.0.0.1', identity: '' };

describe('Handoff with several receivers', () => {
  it("bounds each (receiver, shard) pair by what that shard took up from that receiver's posts", () => {
    const { receivers, takeUp } = twoByTwo(100);
    const [a, b] = receivers as [Handoff, Handoff];
    expect(a.offer(0, FROM, beacon, 1)).toBe(true);
    a.flush();
    // 44 bytes posted to shard 0: a second beacon takes receiver a past its 50 bytes for that shard.
    expect(a.offer(0, FROM, beacon, 1)).toBe(true);
    expect(a.offer(0, FROM, beacon, 1)).toBe(false);
    // Receiver b's pair with shard 0, and a's with shard 1, have their own room.
    expect(b.offer(0, FROM, beacon, 1)).toBe(true);
    expect(a.offer(1, FROM, beacon, 1)).toBe(true);
    a.flush();
    b.flush();
    takeUp();
    expect([a.pendingBytes(0), a.pendingBytes(1), b.pendingBytes(0)]).toEqual([0, 0, 0]);
    expect(a.offer(0, FROM, beacon, 1)).toBe(true);
  });

  it("publishes what each receiver posted to each shard, for the supervisor's accounts", () => {
    const { receivers, posted } = twoByTwo(1 << 20);
    const [a, b] = receivers as [Handoff, Handoff];
    a.offer(1, FROM, beacon, 6);
    b.offer(1, FROM, beacon, 2);
    b.offer(1, FROM, beacon, 2);
    expect(posted.bytes(1)).toBe(0);
    a.flush();
    b.flush();
    expect([posted.of(0, 1).spans, posted.of(1, 1).spans, posted.of(0, 0).spans]).toEqual([6, 4, 0]);
    expect(posted.bytes(1)).toBe(posted.of(0, 1).bytes + posted.of(1, 1).bytes);
    expect(b.posted(1)).toEqual(posted.of(1, 1));
  });

  it('ends with what is left, then an end to every shard', () => {
    const { receivers, inbox } = twoByTwo(1 << 20);
    receivers[1]?.offer(1, FROM, beacon, 1);
    receivers[1]?.end();
    expect(inbox.map(({ shard, message }) => [shard, message.type])).toEqual([
      [1, 'beacons'],
      [0, 'end'],
      [1, 'end'],
    ]);
  });
});
