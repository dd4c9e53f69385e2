import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: NodeJS.GCFunction | undefined;

/**
 * A full garbage collection of the calling thread's heap. The memory limiter forces one while it
 * refuses data, as the Collector's does: refusing allocates almost nothing, so V8 would otherwise
 * never collect, and freed bodies would keep the limiter tripped. Node exposes `gc` only behind
 * --expose-gc; setting the flag at run time takes effect in new contexts, which is enough to get it.
 */
export function collectGarbage(): void {
  if (!gc) {
    if (!globalThis.gc) setFlagsFromString('--expose-gc');
    gc = globalThis.gc ?? (runInNewContext('gc') as NodeJS.GCFunction);
  }
  gc();
}
