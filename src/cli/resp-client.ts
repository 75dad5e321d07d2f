/**
 * A minimal RESP2 client for the cluster snapshot commands (src/cli/cluster.ts): one
 * connection, one command at a time, replies parsed into plain values.
 *
 * Guarantees:
 * - Never hangs: connecting is bounded by `connectTimeoutMs`, every reply by the timeout its
 *   call names; on expiry the socket is destroyed and the call fails with `kind: 'timeout'`.
 * - Every failure is a RespCallError whose `kind` says what happened (`unreachable`: the
 *   connection failed or closed; `timeout`; `protocol`: bytes that are not RESP2), with the
 *   socket's error code in the message. An error reply is not a failure: it is a value
 *   (`{ error: text }`), so the caller decides what it means.
 * - Replies are parsed only as far as the cluster commands need: simple strings, errors,
 *   integers, bulk strings (as UTF-8 text) and arrays of those.
 *
 * frostkv's own RESP code only parses requests; a CLI must not depend on a dev dependency
 * (ioredis), so this is its own small client.
 */

import { connect, type Socket } from 'node:net';

export type RespValue = string | number | null | { error: string } | RespValue[];

export type RespCallErrorKind = 'unreachable' | 'timeout' | 'protocol';

export class RespCallError extends Error {
  readonly kind: RespCallErrorKind;
  constructor(kind: RespCallErrorKind, message: string) {
    super(message);
    this.name = 'RespCallError';
    this.kind = kind;
  }
}

export function isErrorReply(value: RespValue): value is { error: string } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** One request in RESP2's array-of-bulk-strings form. */
export function encodeCommand(args: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.from(arg, 'utf8');
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** A parsed value and where it ended, or null when `buffer` does not hold a whole reply yet. */
type Parsed = { value: RespValue; end: number } | null;

function lineAt(buffer: Buffer, start: number): { text: string; end: number } | null {
  const cr = buffer.indexOf('\r\n', start);
  return cr < 0 ? null : { text: buffer.toString('utf8', start, cr), end: cr + 2 };
}

/** Parse one RESP2 reply starting at `start`; throws RespCallError('protocol') on bad bytes. */
export function parseReply(buffer: Buffer, start = 0): Parsed {
  if (start >= buffer.length) return null;
  const line = lineAt(buffer, start + 1);
  if (line === null) return null;
  const type = String.fromCharCode(buffer[start] as number);
  switch (type) {
    case '+':
      return { value: line.text, end: line.end };
    case '-':
      return { value: { error: line.text }, end: line.end };
    case ':':
      return { value: Number(line.text), end: line.end };
    case '$': {
      const size = Number(line.text);
      if (!Number.isInteger(size) || size < -1) throw new RespCallError('protocol', `bad bulk length ${JSON.stringify(line.text)}`);
      if (size === -1) return { value: null, end: line.end };
      if (buffer.length < line.end + size + 2) return null;
      return { value: buffer.toString('utf8', line.end, line.end + size), end: line.end + size + 2 };
    }
    case '*': {
      const count = Number(line.text);
      if (!Number.isInteger(count) || count < -1) throw new RespCallError('protocol', `bad array length ${JSON.stringify(line.text)}`);
      if (count === -1) return { value: null, end: line.end };
      const items: RespValue[] = [];
      let at = line.end;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, at);
        if (item === null) return null;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new RespCallError('protocol', `the reply starts with ${JSON.stringify(type)}, which is not RESP2`);
  }
}

export class RespConnection {
  private readonly socket: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private waiter: ((error: RespCallError | null) => void) | null = null;
  private broken: RespCallError | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.waiter?.(null);
    });
    const lost = (why: string): void => {
      this.broken ??= new RespCallError('unreachable', why);
      this.waiter?.(this.broken);
    };
    socket.on('error', (error: NodeJS.ErrnoException) => lost(`connection lost: ${error.code ?? error.message}`));
    socket.on('close', () => lost('the server closed the connection'));
  }

  /** Connect to host:port within `connectTimeoutMs`. */
  static open(host: string, port: number, connectTimeoutMs: number): Promise<RespConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RespCallError('timeout', `no connection within ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new RespCallError('unreachable', `cannot connect: ${error.code ?? error.message}`));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RespConnection(socket));
      });
    });
  }

  /** Send one command and wait at most `replyTimeoutMs` for its reply. */
  async call(args: readonly string[], replyTimeoutMs: number): Promise<RespValue> {
    if (this.broken !== null) throw this.broken;
    this.socket.write(encodeCommand(args));
    const deadline = Date.now() + replyTimeoutMs;
    for (;;) {
      const parsed = parseReply(this.buffered);
      if (parsed !== null) {
        this.buffered = this.buffered.subarray(parsed.end);
        return parsed.value;
      }
      if (this.broken !== null) throw this.broken;
      await this.waitForData(deadline - Date.now(), args[0] ?? '', replyTimeoutMs);
    }
  }

  private waitForData(leftMs: number, command: string, replyTimeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        this.socket.destroy();
        reject(new RespCallError('timeout', `no reply to ${command} within ${replyTimeoutMs} ms`));
      }, Math.max(0, leftMs));
      this.waiter = (error) => {
        clearTimeout(timer);
        this.waiter = null;
        if (error === null) resolve();
        else reject(error);
      };
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
