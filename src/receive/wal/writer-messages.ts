// Messages between the main thread and the write-ahead log's writer thread (wal-writer.ts). Frames
// travel as transferred ArrayBuffers, there and back, so a commit copies nothing between threads.

export type ToWriter =
  /** Creates the segment's file now, so the newest segment always exists on disk (its id is the high-water mark). */
  | { type: 'open'; segment: number }
  /** Writes one frame (`length` bytes of `buffer`) to the segment and fsyncs it. */
  | { type: 'commit'; id: number; segment: number; buffer: ArrayBuffer; length: number }
  | { type: 'delete'; segments: number[] }
  | { type: 'close' };

export type FromWriter =
  | { type: 'committed'; id: number; buffer: ArrayBuffer }
  | { type: 'failed'; id: number; buffer: ArrayBuffer; message: string }
  /** An open or a delete failed; logged, the log goes on. */
  | { type: 'error'; message: string }
  | { type: 'closed' };

export interface WriterData {
  directory: string;
}
