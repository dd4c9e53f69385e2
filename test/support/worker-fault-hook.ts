import { isMainThread, MessagePort, parentPort } from 'node:worker_threads';

// Loaded into a relay process with `node --import` (WORKER_FAULT_HOOK), so it runs in every worker
// thread before the shard does: it wraps the shard's message listeners to inject faults the receiver
// cannot produce, keyed by span names that travel in the hand-off.
//   crash-this-worker    in a beacon: the listener throws before the shard sees the message (the thread dies)
//   garble-this-message  in a beacon: the hand-off text is cut short (it no longer parses)
//   corrupt-this-body    in an OTLP span name: that request's bytes are cut short (they no longer decode)

export const WORKER_FAULT_HOOK = new URL(import.meta.url).pathname;
export const CRASH = 'crash-this-worker';
export const GARBLE = 'garble-this-message';
export const CORRUPT = 'corrupt-this-body';

interface Message {
  type: string;
  text?: string;
  items?: { body: Uint8Array }[];
}

function inject(message: Message): void {
  if (message.type === 'beacons' && message.text) {
    if (message.text.includes(CRASH)) throw new Error('worker fault hook: crashing the shard');
    if (message.text.includes(GARBLE)) message.text = message.text.slice(0, -2);
  }
  for (const item of message.type === 'otlp' ? (message.items ?? []) : []) {
    if (Buffer.from(item.body).includes(CORRUPT)) item.body = item.body.subarray(0, item.body.length - 1);
  }
}

// Hand-offs come on the channels from the receivers (workerData.receivers), not on parentPort: every
// port's message listeners are wrapped, on the prototype, in worker threads only.
if (!isMainThread && parentPort) {
  const on = MessagePort.prototype.on;
  MessagePort.prototype.on = function (
    this: MessagePort,
    event: string,
    listener: (message: Message) => void,
  ) {
    const wrapped =
      event === 'message'
        ? (message: Message) => {
            inject(message);
            listener(message);
          }
        : listener;
    return on.call(this, event, wrapped as (...args: unknown[]) => void);
  } as typeof on;
}
