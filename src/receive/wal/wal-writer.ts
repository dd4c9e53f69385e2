import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { sealFrame, segmentPath } from './wal-format.ts';
import type { FromWriter, ToWriter, WriterData } from './writer-messages.ts';

// The write-ahead log's writer thread: every disk operation of the log happens here, one at a time, so
// the thread that acknowledges requests never waits on the disk, and the libuv pool (which the
// workers' gzip uses) is never held by an fsync. Synchronous calls are the point: this thread has
// nothing else to do, and the order of messages is the order on disk.

const { directory } = workerData as WriterData;
const port = parentPort as NonNullable<typeof parentPort>;
const post = (message: FromWriter, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

// Held open for the writer's life: fsyncing the directory makes a new segment's name durable.
const directoryFd = openSync(directory, 'r');
let current: { segment: number; fd: number; size: number } | undefined;
/** The current file's segment is settled: delete it when the next one is opened. */
let settledCurrent = false;
/** Segments that a failed write left with a tail that could not be cut off: nothing more goes after it. */
const broken = new Set<number>();

function fdOf(segment: number): { fd: number; size: number } {
  if (current?.segment === segment) return current;
  if (broken.has(segment)) throw new Error(`segment ${segment} has a torn tail`);
  const fd = openSync(segmentPath(directory, segment), 'a');
  fsyncSync(directoryFd);
  // Only once the new file exists does the old one stop being the newest on disk.
  if (current) {
    closeSync(current.fd);
    if (settledCurrent) rmSync(segmentPath(directory, current.segment), { force: true });
  }
  settledCurrent = false;
  current = { segment, fd, size: fstatSync(fd).size };
  return current;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

function commit(segment: number, frame: Uint8Array): void {
  const file = fdOf(segment);
  sealFrame(frame);
  try {
    writeAll(file.fd, frame);
    fdatasyncSync(file.fd);
    file.size += frame.length;
  } catch (err) {
    // Replay stops at the first bad frame, so a frame cut short must not stay in front of later ones.
    try {
      ftruncateSync(file.fd, file.size);
    } catch {
      broken.add(segment);
      closeSync(file.fd);
      current = undefined;
    }
    throw err;
  }
}

function remove(segments: readonly number[]): void {
  for (const segment of segments) {
    broken.delete(segment);
    // The newest segment on disk carries the highest id, which the next start continues from: it is
    // deleted only once a newer one exists (a failed open left it the newest).
    if (current?.segment === segment) settledCurrent = true;
    else rmSync(segmentPath(directory, segment), { force: true });
  }
}

port.on('message', (message: ToWriter) => {
  switch (message.type) {
    case 'open':
      try {
        fdOf(message.segment);
      } catch (err) {
        post({
          type: 'error',
          message: `cannot create segment ${message.segment}: ${(err as Error).message}`,
        });
      }
      break;
    case 'commit':
      try {
        commit(message.segment, new Uint8Array(message.buffer, 0, message.length));
        post({ type: 'committed', id: message.id, buffer: message.buffer }, [message.buffer]);
      } catch (err) {
        const failed = { type: 'failed', id: message.id, buffer: message.buffer } as const;
        post({ ...failed, message: (err as Error).message }, [message.buffer]);
      }
      break;
    case 'delete':
      try {
        remove(message.segments);
      } catch (err) {
        post({ type: 'error', message: `cannot delete settled segments: ${(err as Error).message}` });
      }
      break;
    case 'close':
      if (current) closeSync(current.fd);
      closeSync(directoryFd);
      current = undefined;
      post({ type: 'closed' });
      break;
  }
});
