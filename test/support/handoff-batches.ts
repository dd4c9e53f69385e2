import { Handoff } from '../../src/handoff/handoff.ts';
import type { BeaconBatch, FromReceiver } from '../../src/handoff/messages.ts';
import { allocatePostedCounts, PostedCounts } from '../../src/handoff/posted-counts.ts';
import type { Beacon } from '../../src/model/beacon.ts';

/** Beacon texts as a receiver hands them to one shard: messages of `perMessage` beacons each. */
export function handoffBatches(texts: readonly string[], perMessage = texts.length): BeaconBatch[] {
  const messages: FromReceiver[] = [];
  const counts = { posted: new PostedCounts(allocatePostedCounts(1, 1), 1, 0), taken: () => 0 };
  const handoff = new Handoff(
    { size: 1, post: (_shard, message) => messages.push(message) },
    counts,
    1 << 24,
  );
  texts.forEach((text, n) => {
    handoff.offer(0, { ip: '127.0.0.1', identity: '' }, JSON.parse(text) as Beacon, text);
    if ((n + 1) % perMessage === 0 || n === texts.length - 1) handoff.flush();
  });
  return messages.filter((m): m is BeaconBatch => m.type === 'beacons');
}
