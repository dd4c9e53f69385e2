import { connect, type Socket } from 'node:net';

/** A raw TCP connection to the relay, for what fetch will not do: stall mid-body, or sit idle. */
export class RawConnection {
  readonly socket: Socket;
  /** Everything the relay sent, once it closed the connection (or it broke). */
  readonly closed: Promise<string>;
  #received = '';

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#received += chunk.toString('latin1');
    });
    // A reset after the answer is still a close: what matters is that the relay let go.
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve(this.#received)));
  }

  static async open(port: number): Promise<RawConnection> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawConnection(socket);
  }

  /**
   * Starts a POST of `length` bytes and sends only `sent` of them: a client that stalls mid-body.
   * Resolves once those bytes are handed to the kernel.
   */
  stallPost(path: string, length: number, sent: number, headers: Record<string, string> = {}): Promise<void> {
    const head = [
      `POST ${path} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Content-Type: application/json',
      `Content-Length: ${length}`,
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      '',
      '',
    ].join('\r\n');
    return new Promise((resolve) => {
      this.socket.write(head);
      this.socket.write(Buffer.alloc(sent, 0x20), () => resolve());
    });
  }

  get open(): boolean {
    return !this.socket.destroyed;
  }

  close(): void {
    this.socket.destroy();
  }
}
