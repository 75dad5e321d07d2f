/**
 * A raw Skyhash 1.x client for tests: builds request bytes by hand and returns each response's
 * exact bytes (so tests compare byte for byte), plus a small decoder for readable assertions.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export type Arg = string | Buffer;

function element(arg: Arg): Buffer {
  const bytes = typeof arg === 'string' ? Buffer.from(arg, 'utf8') : arg;
  return Buffer.concat([Buffer.from(`${bytes.length}\n`), bytes, Buffer.from('\n')]);
}

/** `*1\n~n\n...`: one simple query. */
export function query(...args: Arg[]): Buffer {
  return Buffer.concat([Buffer.from(`*1\n~${args.length}\n`), ...args.map(element)]);
}

/** `*n\n` then one any-array per query. */
export function pipeline(...queries: Arg[][]): Buffer {
  return Buffer.concat([
    Buffer.from(`*${queries.length}\n`),
    ...queries.map((args) => Buffer.concat([Buffer.from(`~${args.length}\n`), ...args.map(element)])),
  ]);
}

/** Length in bytes of the complete response at the start of `bytes`, or -1 if incomplete. */
export function responseLength(bytes: Buffer): number {
  let at = 0;
  const line = (): number | null => {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) return null;
    const text = bytes.toString('latin1', at, end);
    at = end + 1;
    return Number(text);
  };
  const skipBytes = (n: number): boolean => {
    if (at + n + 1 > bytes.length) return false;
    at += n + 1;
    return true;
  };
  const elementAt = (): boolean => {
    if (at >= bytes.length) return false;
    const symbol = String.fromCharCode(bytes[at] as number);
    if (symbol === '@' || symbol === '^') {
      at += 2;
      const count = line();
      if (count === null) return false;
      for (let i = 0; i < count; i++) {
        if (at >= bytes.length) return false;
        if (bytes[at] === 0 && symbol === '@') {
          if (at + 2 > bytes.length) return false;
          at += 2;
          continue;
        }
        const size = line();
        if (size === null || !skipBytes(size)) return false;
      }
      return true;
    }
    at += 1;
    const size = line();
    if (size === null) return false;
    return skipBytes(size);
  };
  if (bytes.length === 0 || bytes[0] !== 0x2a) return bytes.length > 0 ? bytes.length : -1;
  at = 1;
  const count = line();
  if (count === null) return -1;
  for (let i = 0; i < count; i++) if (!elementAt()) return -1;
  return at;
}

export class SkyClient {
  readonly socket: Socket;
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (const wake of this.waiters.splice(0)) wake();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const wake of this.waiters.splice(0)) wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<SkyClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new SkyClient(socket)));
      socket.once('error', reject);
    });
  }

  /** A client over TLS, trusting `ca` (the test certificate). */
  static connectTls(port: number, ca: Buffer, host = '127.0.0.1'): Promise<SkyClient> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ port, host, ca, servername: 'localhost' }, () => resolve(new SkyClient(socket)));
      socket.once('error', reject);
    });
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next complete response's raw bytes (rejects after `timeoutMs`). */
  async response(timeoutMs = 10_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const length = responseLength(this.buffer);
      if (length > 0) {
        const out = this.buffer.subarray(0, length);
        this.buffer = this.buffer.subarray(length);
        return Buffer.from(out);
      }
      if (this.closed) throw new Error(`connection closed; pending bytes ${JSON.stringify(this.buffer.toString('latin1'))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete response; have ${JSON.stringify(this.buffer.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Send one simple query and return its response as a latin1 string (`*1\n...`). */
  async run(...args: Arg[]): Promise<string> {
    this.send(query(...args));
    return (await this.response()).toString('latin1');
  }

  /** Resolves when the server has closed the connection. */
  async closedByServer(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('the server did not close the connection');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Bytes received and not yet returned. */
  get pending(): Buffer {
    return this.buffer;
  }

  close(): void {
    this.socket.destroy();
  }
}
