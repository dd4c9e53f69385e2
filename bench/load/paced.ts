import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { BeaconFactory } from '../beacons.ts';
import { LatencyRecorder } from './latency.ts';
import { cpuSecondsSince, type LoadResult } from './load-result.ts';

// Open-loop load at a fixed rate, for latency. autocannon's overallRate is a per-second quota per
// connection: each second starts with a burst at full speed, so it measures the burst, not the rate.
// Here beacons are scheduled evenly (every millisecond, rate/1000 of them) on as many keep-alive
// connections as it takes, and latency runs from each beacon's scheduled time, so a stalled server
// is charged for the beacons that queued behind it (no coordinated omission).

const MAX_CONNECTIONS = 512;
const DRAIN_MS = 10_000;
const HEADER_END = Buffer.from('\r\n\r\n');

interface Connection {
  socket: Socket;
  pending: Buffer;
  /** Scheduled time of the beacon in flight; undefined when idle. */
  scheduledAt: number | undefined;
}

/** Parses one HTTP/1.1 response with a content-length from the front of `buf`. */
export function parseResponse(buf: Buffer): { status: number; length: number } | undefined {
  const headerEnd = buf.indexOf(HEADER_END);
  if (headerEnd < 0) return undefined;
  const head = buf.toString('latin1', 0, headerEnd).toLowerCase();
  const match = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (!match) throw new Error(`response without content-length: ${head.split('\r\n')[0]}`);
  const length = headerEnd + 4 + Number(match[1]);
  if (buf.length < length) return undefined;
  return { status: Number(head.slice(9, 12)), length };
}

export function paced(
  port: number,
  beacons: BeaconFactory,
  options: { rate: number; seconds: number },
): Promise<LoadResult> {
  const latencies = new LatencyRecorder();
  const cpu = process.cpuUsage();
  const idle: Connection[] = [];
  const all = new Set<Connection>();
  const backlog: number[] = [];
  let backlogHead = 0;
  let scheduled = 0;
  let acked = 0;
  let refused = 0;
  let errors = 0;
  const total = Math.round(options.rate * options.seconds);
  const start = performance.now();

  const send = (connection: Connection, scheduledAt: number): void => {
    connection.scheduledAt = scheduledAt;
    const body = beacons.next();
    const socket = connection.socket;
    socket.cork();
    socket.write(
      `POST /v1/beacons HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
    );
    socket.write(body);
    socket.uncork();
  };

  const open = (): Connection => {
    const connection: Connection = {
      socket: connect(port, '127.0.0.1'),
      pending: Buffer.alloc(0),
      scheduledAt: undefined,
    };
    connection.socket.setNoDelay(true);
    connection.socket.on('data', (chunk: Buffer) => onData(connection, chunk));
    connection.socket.on('error', () => {});
    connection.socket.on('close', () => {
      all.delete(connection);
      const at = idle.indexOf(connection);
      if (at >= 0) idle.splice(at, 1);
      if (connection.scheduledAt !== undefined) errors++;
    });
    all.add(connection);
    return connection;
  };

  const dispatch = (): void => {
    while (backlogHead < backlog.length) {
      const connection = idle.pop() ?? (all.size < MAX_CONNECTIONS ? open() : undefined);
      if (!connection) return;
      send(connection, backlog[backlogHead++] as number);
    }
    backlog.length = 0;
    backlogHead = 0;
  };

  const onData = (connection: Connection, chunk: Buffer): void => {
    connection.pending = connection.pending.length ? Buffer.concat([connection.pending, chunk]) : chunk;
    const response = parseResponse(connection.pending);
    if (!response || connection.scheduledAt === undefined) return;
    connection.pending = connection.pending.subarray(response.length);
    if (response.status >= 200 && response.status < 300) {
      acked++;
      latencies.record(performance.now() - connection.scheduledAt);
    } else refused++;
    connection.scheduledAt = undefined;
    idle.push(connection);
    dispatch();
  };

  return new Promise((resolve) => {
    const finish = () => {
      clearInterval(drainCheck);
      for (const connection of all) connection.socket.destroy();
      resolve({
        seconds: options.seconds,
        acked,
        refused,
        errors: scheduled - acked - refused,
        latency: latencies.summary(),
        generatorCpuSeconds: cpuSecondsSince(cpu),
      });
    };
    let drainCheck: NodeJS.Timeout | undefined;
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * options.rate) / 1000));
      for (; scheduled < due; scheduled++) backlog.push(start + (scheduled * 1000) / options.rate);
      dispatch();
      if (scheduled < total) return;
      clearInterval(tick);
      const drainUntil = performance.now() + DRAIN_MS;
      drainCheck = setInterval(() => {
        const answered = acked + refused + errors;
        if (answered >= scheduled || performance.now() > drainUntil) finish();
      }, 5);
    }, 1);
  });
}
