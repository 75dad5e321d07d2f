/**
 * Skyhash 1.x load generation for bench/skyhash.ts: request templates whose key and value
 * digits are rewritten in place, a closed-loop connection that keeps one request (or one
 * pipeline) in flight and checks every reply byte for byte, and a response-length parser to
 * step over a reply that is not the expected one.
 *
 * Guarantees: one request (or pipeline) per connection is in flight at a time, so a template
 * buffer is rewritten only after the server has answered the bytes written from it; every reply
 * is either exactly the expected bytes (counted ok) or one complete other response (counted as
 * an error, its bytes kept for the report); latency is measured with process.hrtime.bigint from
 * the write call to the arrival of the reply's last byte.
 */

import { connect, type Socket } from 'node:net';
import { writeDigits } from './support.js';

export const kKeyDigits = 12;

/** One encoded element `<len>\n<bytes>\n`; returns the offset of the bytes inside `parts`. */
class Builder {
  private readonly parts: Buffer[] = [];
  private length = 0;

  text(value: string): void {
    const bytes = Buffer.from(value, 'latin1');
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  /** Append raw bytes and return where they start. */
  bytes(value: Buffer): number {
    const at = this.length;
    this.parts.push(value);
    this.length += value.length;
    return at;
  }

  build(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

export type SkyAction = 'set' | 'update' | 'get';

export interface WorkloadShape {
  action: SkyAction;
  /** Queries per request: 1 sends `*1`, n > 1 sends `*n` pipelines. */
  depth: number;
  /** Key prefix (ASCII); the key is prefix + 12 digits of the operation index. */
  keyPrefix: string;
  valueBytes: number;
  /** Type symbol of the table's values in GET replies (`?` binstr, `+` str). */
  valueSymbol: '?' | '+';
}

/** Value of key i written by SET (fill 's') or UPDATE (fill 'u'): filler then the 12 digits when it fits. */
export function valueFor(fill: string, index: number, valueBytes: number): Buffer {
  const value = Buffer.alloc(valueBytes, fill.charCodeAt(0));
  if (valueBytes >= kKeyDigits) writeDigits(value, valueBytes - kKeyDigits, index, kKeyDigits);
  return value;
}

function digitsAt(valueBytes: number): number | null {
  return valueBytes >= kKeyDigits ? valueBytes - kKeyDigits : null;
}

/**
 * A request template and its expected reply for `depth` consecutive operations. `fill(batch)`
 * rewrites every key and value digit for operations batch*depth .. batch*depth+depth-1.
 */
export class Template {
  readonly request: Buffer;
  readonly expected: Buffer;
  private readonly requestOffsets: number[][];
  private readonly expectedOffsets: number[][];
  private readonly depth: number;

  constructor(shape: WorkloadShape) {
    this.depth = shape.depth;
    const request = new Builder();
    const expected = new Builder();
    this.requestOffsets = [];
    this.expectedOffsets = [];
    request.text(`*${shape.depth}\n`);
    expected.text(`*${shape.depth}\n`);
    const keyBytes = shape.keyPrefix.length + kKeyDigits;
    const valueDigits = digitsAt(shape.valueBytes);
    for (let q = 0; q < shape.depth; q++) {
      const offsets: number[] = [];
      const replyOffsets: number[] = [];
      const name = shape.action.toUpperCase();
      request.text(`~${shape.action === 'get' ? 2 : 3}\n${name.length}\n${name}\n${keyBytes}\n`);
      const key = Buffer.alloc(keyBytes, 0x30);
      key.write(shape.keyPrefix, 0, 'latin1');
      offsets.push(request.bytes(key) + shape.keyPrefix.length);
      request.text('\n');
      if (shape.action === 'get') {
        expected.text(`${shape.valueSymbol}${shape.valueBytes}\n`);
        const at = expected.bytes(valueFor('u', 0, shape.valueBytes));
        if (valueDigits !== null) replyOffsets.push(at + valueDigits);
        expected.text('\n');
      } else {
        request.text(`${shape.valueBytes}\n`);
        const at = request.bytes(valueFor(shape.action === 'set' ? 's' : 'u', 0, shape.valueBytes));
        if (valueDigits !== null) offsets.push(at + valueDigits);
        request.text('\n');
        expected.text('!1\n0\n');
      }
      this.requestOffsets.push(offsets);
      this.expectedOffsets.push(replyOffsets);
    }
    this.request = request.build();
    this.expected = expected.build();
  }

  fill(batch: number): void {
    for (let q = 0; q < this.depth; q++) {
      const index = batch * this.depth + q;
      for (const at of this.requestOffsets[q] as number[]) writeDigits(this.request, at, index, kKeyDigits);
      for (const at of this.expectedOffsets[q] as number[]) writeDigits(this.expected, at, index, kKeyDigits);
    }
  }
}

/** Length in bytes of the complete Skyhash response at the start of `bytes`, or -1 if incomplete. */
export function responseLength(bytes: Buffer): number {
  let at = 0;
  const line = (): number | null => {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) return null;
    const value = Number(bytes.toString('latin1', at, end));
    at = end + 1;
    return Number.isFinite(value) ? value : 0;
  };
  const skip = (n: number): boolean => {
    if (at + n + 1 > bytes.length) return false;
    at += n + 1;
    return true;
  };
  const element = (): boolean => {
    if (at >= bytes.length) return false;
    const symbol = bytes[at];
    if (symbol === 0x40 || symbol === 0x5e) {
      // @t<n> / ^t<n>: typed arrays, `\0\n` for a null element of `@`.
      at += 2;
      const count = line();
      if (count === null) return false;
      for (let i = 0; i < count; i++) {
        if (at >= bytes.length) return false;
        if (bytes[at] === 0 && symbol === 0x40) {
          if (!skip(1)) return false;
          continue;
        }
        const size = line();
        if (size === null || !skip(size)) return false;
      }
      return true;
    }
    at += 1;
    const size = line();
    return size !== null && skip(size);
  };
  if (bytes.length === 0) return -1;
  // Not a response at all: treat the whole buffer as one bad reply.
  if (bytes[0] !== 0x2a) return bytes.length;
  at = 1;
  const count = line();
  if (count === null) return -1;
  for (let i = 0; i < count; i++) if (!element()) return -1;
  return at;
}

export function openSocket(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** Send one raw request on a fresh connection and return the complete raw reply. */
export async function skyRoundTrip(port: number, request: Buffer, timeoutMs = 600_000): Promise<Buffer> {
  const socket = await openSocket(port);
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      let buffer = Buffer.alloc(0);
      const timer = setTimeout(() => reject(new Error('Skyhash request timed out')), timeoutMs);
      socket.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        const length = responseLength(buffer);
        if (length > 0) {
          clearTimeout(timer);
          resolve(buffer.subarray(0, length));
        }
      });
      socket.on('error', reject);
      socket.on('close', () => reject(new Error('Skyhash connection closed before the reply')));
      socket.write(request);
    });
  } finally {
    socket.destroy();
  }
}

/** `*1\n~n\n` + elements. */
export function skyQuery(...args: string[]): Buffer {
  let text = `*1\n~${args.length}\n`;
  for (const arg of args) text += `${Buffer.byteLength(arg)}\n${arg}\n`;
  return Buffer.from(text, 'utf8');
}

export interface RunResult {
  batches: number;
  ops: number;
  wallMs: number;
  /** Per batch (request or pipeline) latency in ms, indexed by batch number. */
  latencyMs: Float64Array;
  errors: number;
  /** Up to a few unexpected replies, for the report. */
  errorSamples: string[];
}

/**
 * Run `batches` requests of `shape` over `connections` sockets, closed loop: each connection
 * takes the next batch number when its previous reply has arrived.
 */
export async function runWorkload(port: number, shape: WorkloadShape, batches: number, connections: number): Promise<RunResult> {
  const latencyMs = new Float64Array(batches);
  const errorSamples: string[] = [];
  let errors = 0;
  let nextBatch = 0;
  let done = 0;
  const sockets = await Promise.all(Array.from({ length: Math.min(connections, batches) }, () => openSocket(port)));
  const startedAt = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    for (const socket of sockets) {
      const template = new Template(shape);
      const expected = template.expected;
      let batch = -1;
      let sentAt = 0n;
      let pending: Buffer | null = null;
      let inFlight = false;
      const sendNext = (): void => {
        if (nextBatch >= batches) {
          socket.end();
          return;
        }
        inFlight = true;
        batch = nextBatch++;
        template.fill(batch);
        sentAt = process.hrtime.bigint();
        socket.write(template.request);
      };
      const finishReply = (ok: boolean, reply: Buffer): void => {
        latencyMs[batch] = Number(process.hrtime.bigint() - sentAt) / 1e6;
        inFlight = false;
        if (!ok) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(JSON.stringify(reply.toString('latin1').slice(0, 200)));
        }
        done++;
        if (done === batches) resolve();
        else sendNext();
      };
      socket.on('data', (chunk: Buffer) => {
        // Fast path: the whole reply in one chunk, exactly as expected.
        if (pending === null && chunk.length === expected.length && chunk.equals(expected)) {
          finishReply(true, chunk);
          return;
        }
        pending = pending === null ? chunk : Buffer.concat([pending, chunk]);
        for (;;) {
          if (pending.length >= expected.length && pending.compare(expected, 0, expected.length, 0, expected.length) === 0) {
            const rest = pending.subarray(expected.length);
            pending = rest.length === 0 ? null : Buffer.from(rest);
            finishReply(true, expected);
          } else {
            const length = responseLength(pending);
            if (length < 0) return;
            const reply = pending.subarray(0, length);
            const rest = pending.subarray(length);
            pending = rest.length === 0 ? null : Buffer.from(rest);
            finishReply(false, reply);
          }
          if (pending === null) return;
        }
      });
      socket.on('error', reject);
      socket.on('close', () => {
        if (inFlight) reject(new Error(`the server closed a connection after ${done} of ${batches} requests`));
      });
      sendNext();
    }
  });
  const wallMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
  for (const socket of sockets) socket.destroy();
  return { batches, ops: batches * shape.depth, wallMs, latencyMs, errors, errorSamples };
}
