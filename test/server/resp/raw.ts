/**
 * A raw RESP2/RESP3 client for server tests: writes exact bytes (valid, split or malformed) and reads
 * the server's replies with a strict, independent reply parser, so a test sees precisely what
 * went over the wire (a null bulk versus a null array, an error's exact text, a close).
 *
 * Guarantees: every wait has a deadline and fails with what was received so far, so a server
 * that hangs fails the test instead of stalling the suite; malformed reply bytes fail loudly.
 */

import { connect, type Socket } from 'node:net';

export type Reply =
  | { t: '+'; v: string }
  | { t: '-'; v: string }
  | { t: ':'; v: bigint }
  | { t: '$'; v: Buffer | null }
  | { t: '*'; v: Reply[] | null }
  // RESP3 types (after HELLO 3).
  | { t: '%'; v: Array<[Reply, Reply]> }
  | { t: '~' | '>'; v: Reply[] }
  | { t: ',' | '('; v: string }
  | { t: '#'; v: boolean }
  | { t: '_'; v: null }
  | { t: '='; v: { format: string; text: Buffer } };

/** Encode a command as a RESP2 multibulk request. */
export function encodeCommand(args: ReadonlyArray<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const data = typeof arg === 'string' ? Buffer.from(arg, 'latin1') : arg;
    parts.push(Buffer.from(`$${data.length}\r\n`), data, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

class MalformedReply extends Error {}

/** Parse one reply at `at`; null when the bytes end first. Throws MalformedReply on bad bytes. */
function parseReply(bytes: Buffer, at: number): { reply: Reply; next: number } | null {
  if (at >= bytes.length) return null;
  const lf = bytes.indexOf(0x0a, at);
  if (lf < 0) return null;
  if (bytes[lf - 1] !== 0x0d) throw new MalformedReply(`reply line without CR at ${lf}`);
  const type = String.fromCharCode(bytes[at] as number);
  const line = bytes.toString('latin1', at + 1, lf - 1);
  const after = lf + 1;
  const integer = (): number => {
    if (!/^(-1|0|[1-9][0-9]*)$/.test(line)) throw new MalformedReply(`bad length ${JSON.stringify(line)} after ${type}`);
    return Number(line);
  };
  switch (type) {
    case '+':
    case '-':
      if (line.includes('\r') || line.includes('\n')) throw new MalformedReply('CR or LF inside a status line');
      return { reply: { t: type, v: line }, next: after };
    case ':':
      if (!/^-?[0-9]+$/.test(line)) throw new MalformedReply(`bad integer ${JSON.stringify(line)}`);
      return { reply: { t: ':', v: BigInt(line) }, next: after };
    case '$': {
      const length = integer();
      if (length === -1) return { reply: { t: '$', v: null }, next: after };
      if (after + length + 2 > bytes.length) return null;
      if (bytes[after + length] !== 0x0d || bytes[after + length + 1] !== 0x0a) throw new MalformedReply('bulk not followed by CRLF');
      return { reply: { t: '$', v: Buffer.from(bytes.subarray(after, after + length)) }, next: after + length + 2 };
    }
    case '*': {
      const count = integer();
      if (count === -1) return { reply: { t: '*', v: null }, next: after };
      const items = parseItems(bytes, after, count);
      return items === null ? null : { reply: { t: '*', v: items.items }, next: items.next };
    }
    case '~':
    case '>': {
      const items = parseItems(bytes, after, integer());
      return items === null ? null : { reply: { t: type, v: items.items }, next: items.next };
    }
    case '%': {
      const items = parseItems(bytes, after, integer() * 2);
      if (items === null) return null;
      const pairs: Array<[Reply, Reply]> = [];
      for (let i = 0; i < items.items.length; i += 2) pairs.push([items.items[i] as Reply, items.items[i + 1] as Reply]);
      return { reply: { t: '%', v: pairs }, next: items.next };
    }
    case ',':
      if (!/^(-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?|-?inf|nan)$/.test(line)) throw new MalformedReply(`bad double ${JSON.stringify(line)}`);
      return { reply: { t: ',', v: line }, next: after };
    case '(':
      if (!/^-?[0-9]+$/.test(line)) throw new MalformedReply(`bad big number ${JSON.stringify(line)}`);
      return { reply: { t: '(', v: line }, next: after };
    case '#':
      if (line !== 't' && line !== 'f') throw new MalformedReply(`bad boolean ${JSON.stringify(line)}`);
      return { reply: { t: '#', v: line === 't' }, next: after };
    case '_':
      if (line !== '') throw new MalformedReply('bytes after a RESP3 null');
      return { reply: { t: '_', v: null }, next: after };
    case '=': {
      const length = integer();
      if (after + length + 2 > bytes.length) return null;
      if (length < 4 || bytes[after + 3] !== 0x3a) throw new MalformedReply('verbatim string without a format prefix');
      const format = bytes.toString('latin1', after, after + 3);
      return { reply: { t: '=', v: { format, text: Buffer.from(bytes.subarray(after + 4, after + length)) } }, next: after + length + 2 };
    }
    default:
      throw new MalformedReply(`unknown reply type byte 0x${(bytes[at] as number).toString(16)} at ${at}`);
  }
}

function parseItems(bytes: Buffer, at: number, count: number): { items: Reply[]; next: number } | null {
  const items: Reply[] = [];
  let next = at;
  for (let i = 0; i < count; i++) {
    const item = parseReply(bytes, next);
    if (item === null) return null;
    items.push(item.reply);
    next = item.next;
  }
  return { items, next };
}

/** Every complete reply in `bytes`, and whether bytes of an incomplete one are left over. */
export function parseReplies(bytes: Buffer): { replies: Reply[]; rest: number } {
  const replies: Reply[] = [];
  let at = 0;
  for (;;) {
    const parsed = parseReply(bytes, at);
    if (parsed === null) return { replies, rest: bytes.length - at };
    replies.push(parsed.reply);
    at = parsed.next;
  }
}

/** A compact text form of replies, for equality checks and readable failures. */
export function show(reply: Reply): string {
  switch (reply.t) {
    case '+':
    case '-':
      return `${reply.t}${reply.v}`;
    case ':':
      return `:${reply.v}`;
    case '$':
      return reply.v === null ? '$nil' : `$${reply.v.toString('hex')}`;
    case '*':
      return reply.v === null ? '*nil' : `[${reply.v.map(show).join(',')}]`;
    case '~':
    case '>':
      return `${reply.t}[${reply.v.map(show).join(',')}]`;
    case '%':
      return `%{${reply.v.map(([k, v]) => `${show(k)}:${show(v)}`).join(',')}}`;
    case ',':
    case '(':
      return `${reply.t}${reply.v}`;
    case '#':
      return reply.v ? '#t' : '#f';
    case '_':
      return '_';
    case '=':
      return `=${reply.v.format}:${reply.v.text.toString('hex')}`;
  }
}

export class RawClient {
  readonly socket: Socket;
  private received = Buffer.alloc(0);
  private closedFlag = false;
  private wake: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.notify();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closedFlag = true;
      this.notify();
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  private notify(): void {
    for (const wake of this.wake.splice(0)) wake();
  }

  private async until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received ${JSON.stringify(this.received.toString('latin1').slice(0, 600))}${this.closedFlag ? ' (closed)' : ''}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Every byte received so far. */
  get bytes(): Buffer {
    return this.received;
  }

  write(bytes: Buffer | string): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Wait for at least `count` complete replies (since the connection opened); returns them all. */
  async replies(count: number, timeoutMs = 5_000): Promise<Reply[]> {
    let parsed: Reply[] = [];
    await this.until(
      () => {
        parsed = parseReplies(this.received).replies;
        if (parsed.length >= count) return true;
        if (this.closedFlag) throw new Error(`the server closed the connection after ${parsed.length} of ${count} replies; received ${JSON.stringify(this.received.toString('latin1').slice(0, 600))}`);
        return false;
      },
      timeoutMs,
      `${count} replies`,
    );
    return parsed;
  }

  /** Send one command and return its reply (assumes no other replies are outstanding). */
  async call(...args: Array<string | Buffer>): Promise<Reply> {
    const before = parseReplies(this.received).replies.length;
    this.write(encodeCommand(args));
    const all = await this.replies(before + 1);
    return all[before] as Reply;
  }

  /** Wait until the server closes the connection. */
  async waitClosed(timeoutMs = 5_000): Promise<void> {
    await this.until(() => this.closedFlag, timeoutMs, 'the server to close the connection');
  }

  destroy(): void {
    this.socket.destroy();
  }
}
