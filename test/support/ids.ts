import { randomBytes } from 'node:crypto';

/** A random W3C trace id (32 lowercase hex). */
export const randomTraceId = (): string => randomBytes(16).toString('hex');
/** A random W3C span id (16 lowercase hex). */
export const randomSpanId = (): string => randomBytes(8).toString('hex');
