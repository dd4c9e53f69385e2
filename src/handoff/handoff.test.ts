import { describe, expect, it } from 'vitest';
import type { Beacon } from '../model/beacon.ts';
import { BeaconFlag, FACTS, Fact, itemStart } from '../model/beacon-facts.ts';
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

/** A beacon of `spans` spans and its text (the hand-off copies the text as it is). */
function beaconOf(spans: number): [Beacon, string] {
  const value = {
    v: 1,
    traceId: 'ab'.repeat(16),
    ts: 0,
    worker: { id: '1', version: '1' },
    spans: Array.from({ length: spans }, (_, i) => ({
      id: `${i}`.padStart(16, '0'),
      name: 's',
      start: 0,
      dur: 1,
    })),
  } satisfies Beacon;
  return [value, JSON.stringify(value)];
}
const one = beaconOf(1);
/** Bytes of its hand-off item: the text with the sender's address around it. */
const ITEM_BYTES = `{"ip":"127.0.0.1","b":${one[1]}}`.length;
const FROM = { ip: '127.0.0.1', identity: '' };

describe('Handoff with several receivers', () => {
  it("bounds each (receiver, shard) pair by what that shard took up from that receiver's posts", () => {
    // Each (receiver, shard) pair may have one and a half items pending.
    const { receivers, takeUp } = twoByTwo(3 * ITEM_BYTES);
    const [a, b] = receivers as [Handoff, Handoff];
    expect(a.offer(0, FROM, ...one)).toBe(true);
    a.flush();
    // One item posted to shard 0: a second takes receiver a past its bound for that shard.
    expect(a.offer(0, FROM, ...one)).toBe(true);
    expect(a.offer(0, FROM, ...one)).toBe(false);
    // Receiver b's pair with shard 0, and a's with shard 1, have their own room.
    expect(b.offer(0, FROM, ...one)).toBe(true);
    expect(a.offer(1, FROM, ...one)).toBe(true);
    a.flush();
    b.flush();
    takeUp();
    expect([a.pendingBytes(0), a.pendingBytes(1), b.pendingBytes(0)]).toEqual([0, 0, 0]);
    expect(a.offer(0, FROM, ...one)).toBe(true);
  });

  it("publishes what each receiver posted to each shard, for the supervisor's accounts", () => {
    const { receivers, posted } = twoByTwo(1 << 20);
    const [a, b] = receivers as [Handoff, Handoff];
    a.offer(1, FROM, ...beaconOf(6));
    b.offer(1, FROM, ...beaconOf(2));
    b.offer(1, FROM, ...beaconOf(2));
    expect(posted.bytes(1)).toBe(0);
    a.flush();
    b.flush();
    expect([posted.of(0, 1).spans, posted.of(1, 1).spans, posted.of(0, 0).spans]).toEqual([6, 4, 0]);
    expect(posted.bytes(1)).toBe(posted.of(0, 1).bytes + posted.of(1, 1).bytes);
    expect(b.posted(1)).toEqual(posted.of(1, 1));
  });

  it('ends with what is left, then an end to every shard', () => {
    const { receivers, inbox } = twoByTwo(1 << 20);
    receivers[1]?.offer(1, FROM, ...one);
    receivers[1]?.end();
    expect(inbox.map(({ shard, message }) => [shard, message.type])).toEqual([
      [1, 'beacons'],
      [0, 'end'],
      [1, 'end'],
    ]);
  });

  it('hands beacons off as one JSON text, with where each ends and its trace, spans, root and segment beside it', () => {
    const posts: FromReceiver[] = [];
    const port: ShardPort = { size: 1, post: (_shard, message) => posts.push(message) };
    const counts = { posted: new PostedCounts(allocatePostedCounts(1, 1), 1, 0), taken: () => 0 };
    const handoff = new Handoff(port, counts, 1 << 20);
    const [rooted, rootedText] = beaconOf(2);
    const [child] = beaconOf(3);
    for (const span of child.spans) span.parent = 'ff'.repeat(8);
    const childTrace = { ...child, traceId: 'cd'.repeat(16) };
    handoff.offer(0, FROM, rooted, rootedText);
    handoff.offer(0, { ip: '10.0.0.1', identity: 'token:a' }, childTrace, JSON.stringify(childTrace));
    handoff.push(0, FROM, rooted, rootedText, 7, true);
    handoff.flush();
    const [first, replayed] = posts;
    if (first?.type !== 'beacons' || replayed?.type !== 'beacons') throw new Error('no beacons');
    const { text, traceIds, facts, bytes, recovered } = first;
    const fact = (i: number, which: number) => facts[i * FACTS + which] as number;
    const root = (i: number) => (fact(i, Fact.FLAGS) & BeaconFlag.ROOT) !== 0;
    expect(facts.length).toBe(2 * FACTS);
    expect([traceIds, [fact(0, Fact.SPANS), fact(1, Fact.SPANS)], [root(0), root(1)], recovered]).toEqual([
      [rooted.traceId, childTrace.traceId],
      [2, 3],
      [true, false],
      false,
    ]);
    const items = [
      { ip: '127.0.0.1', b: rooted },
      { ip: '10.0.0.1', id: 'token:a', b: childTrace },
    ];
    expect(JSON.parse(text)).toEqual(items);
    expect(
      traceIds.map((_, i) => JSON.parse(text.slice(itemStart(facts, i * FACTS), fact(i, Fact.END)))),
    ).toEqual(items);
    expect([fact(0, Fact.SEGMENT), fact(1, Fact.SEGMENT)]).toEqual([-1, -1]);
    // The brackets and the comma are not the items' bytes.
    expect(bytes).toBe(text.length - 3);
    // A replayed beacon goes in a message of its own, counted as recovered, with its log segment.
    expect(replayed.recovered).toBe(true);
    expect(JSON.parse(replayed.text)).toEqual([{ ip: '127.0.0.1', b: rooted }]);
    expect(replayed.facts[Fact.SEGMENT]).toBe(7);
  });
});
