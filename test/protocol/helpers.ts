/**
 * Test helpers for the wire parsers: encoders for valid streams (the oracle), a driver that
 * feeds a stream in given chunks and drains every result, and stream generators and mutators
 * for seeded fuzzing.
 */

import type { Rng } from '../support/random.js';
import type { ArgView } from '../../src/protocol/args.js';
import { ProtocolError, type ProtocolLimits } from '../../src/protocol/limits.js';
import { RespParser } from '../../src/protocol/resp/parser.js';
import { SkyhashParser } from '../../src/protocol/skyhash/parser.js';

export type Arg = Buffer | string;

export const kDefaultLimits: ProtocolLimits = {
  requestMaxBytes: 128 * 1024 * 1024,
  queryElementsMax: 1_048_576,
  pipelineQueriesMax: 65_536,
};

export function bytes(value: Arg): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
}

export function encodeSkyhash(queries: readonly (readonly Arg[])[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${queries.length}\n`)];
  for (const query of queries) {
    parts.push(Buffer.from(`~${query.length}\n`));
    for (const element of query) {
      const data = bytes(element);
      parts.push(Buffer.from(`${data.length}\n`), data, Buffer.from('\n'));
    }
  }
  return Buffer.concat(parts);
}

export function encodeResp(args: readonly Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const data = bytes(arg);
    parts.push(Buffer.from(`$${data.length}\r\n`), data, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** A parser of either protocol, seen as "returns argument lists". */
export interface Driver {
  push(chunk: Uint8Array): void;
  /**
   * Drain complete results into `out` (each result a list of queries, each a list of
   * arguments) until the parser needs more; throws what the parser throws.
   */
  drain(out?: Buffer[][][]): Buffer[][][];
  readonly pendingBytes: number;
  readonly retainedBytes: number;
}

function copyView(view: ArgView): Buffer[] {
  return view.toBuffers();
}

export function skyhashDriver(limits: ProtocolLimits = kDefaultLimits): Driver & { parser: SkyhashParser } {
  const parser = new SkyhashParser(limits);
  return {
    parser,
    push: (chunk) => parser.push(chunk),
    drain: (out: Buffer[][][] = []) => {
      for (let request = parser.next(); request !== null; request = parser.next()) {
        const queries: Buffer[][] = [];
        for (let q = 0; q < request.count; q++) queries.push(copyView(request.query(q)));
        out.push(queries);
      }
      return out;
    },
    get pendingBytes() {
      return parser.pendingBytes;
    },
    get retainedBytes() {
      return parser.retainedBytes;
    },
  };
}

export function respDriver(limits: ProtocolLimits = kDefaultLimits): Driver & { parser: RespParser } {
  const parser = new RespParser(limits);
  return {
    parser,
    push: (chunk) => parser.push(chunk),
    drain: (out: Buffer[][][] = []) => {
      for (let command = parser.next(); command !== null; command = parser.next()) out.push([copyView(command)]);
      return out;
    },
    get pendingBytes() {
      return parser.pendingBytes;
    },
    get retainedBytes() {
      return parser.retainedBytes;
    },
  };
}

export interface FeedResult {
  results: Buffer[][][];
  error: ProtocolError | null;
}

/**
 * Feed `stream` cut at `cuts` (sorted positions), draining after every chunk, as a server does.
 * Each chunk is a fresh copy that is overwritten with garbage once the parser asked for more, to
 * prove the parser never keeps pointing into a chunk it borrowed.
 */
export function feed(driver: Driver, stream: Buffer, cuts: readonly number[], onChunk?: () => void): FeedResult {
  const results: Buffer[][][] = [];
  let from = 0;
  const ends = [...cuts, stream.length];
  for (const to of ends) {
    if (to < from) continue;
    const chunk = Buffer.from(stream.subarray(from, to));
    from = to;
    try {
      driver.push(chunk);
      driver.drain(results);
    } catch (error) {
      if (error instanceof ProtocolError) return { results, error };
      throw error;
    }
    chunk.fill(0xee);
    onChunk?.();
  }
  return { results, error: null };
}

/** Results as hex strings: cheap to compare (deep equality on Buffers goes byte by byte). */
export function hex(results: readonly (readonly (readonly Arg[])[])[]): string[][][] {
  return results.map((queries) => queries.map((args) => args.map((arg) => (typeof arg === 'string' ? Buffer.from(arg, 'latin1') : arg).toString('hex'))));
}

export function everyByte(length: number): number[] {
  const cuts: number[] = [];
  for (let i = 1; i < length; i++) cuts.push(i);
  return cuts;
}

export function randomCuts(rng: Rng, length: number, maxChunk: number): number[] {
  const cuts: number[] = [];
  let at = 0;
  for (;;) {
    at += 1 + rng.int(maxChunk);
    if (at >= length) return cuts;
    cuts.push(at);
  }
}

// ------------------------------------------------------------------ generators

const kSpecialBytes = [0x0a, 0x0d, 0x00, 0x2a, 0x7e, 0x24, 0x30, 0x39, 0x22, 0x27, 0x20, 0x5c];

export function randomElement(rng: Rng): Buffer {
  const roll = rng.int(20);
  const length = roll === 0 ? 0 : roll === 1 ? 200 + rng.int(2000) : rng.int(24);
  const out = rng.bytes(length);
  for (let i = 0; i < length; i++) if (rng.int(6) === 0) out[i] = rng.pick(kSpecialBytes);
  return out;
}

export function randomSkyhashRequest(rng: Rng): Buffer[][] {
  const queries: Buffer[][] = [];
  const queryCount = rng.int(5) === 0 ? 2 + rng.int(5) : 1;
  for (let q = 0; q < queryCount; q++) {
    const elements: Buffer[] = [];
    const count = 1 + rng.int(5);
    for (let i = 0; i < count; i++) elements.push(randomElement(rng));
    queries.push(elements);
  }
  return queries;
}

const kWordChars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:.-{}';

/** One inline RESP line for `args`, using random spacing, quoting and escapes. */
export function encodeInline(rng: Rng, args: readonly Buffer[]): Buffer {
  const blanks = () => Buffer.from(rng.pick([' ', '  ', '\t', ' \t ']));
  const parts: Buffer[] = [];
  if (rng.int(4) === 0) parts.push(blanks());
  args.forEach((arg, index) => {
    if (index > 0) parts.push(blanks());
    parts.push(encodeInlineWord(rng, arg));
  });
  if (rng.int(4) === 0) parts.push(blanks());
  parts.push(Buffer.from(rng.int(2) === 0 ? '\r\n' : '\n'));
  return Buffer.concat(parts);
}

function isPlain(byte: number): boolean {
  return kWordChars.includes(String.fromCharCode(byte));
}

function encodeInlineWord(rng: Rng, arg: Buffer): Buffer {
  const plain = arg.length > 0 && [...arg].every(isPlain);
  const style = plain ? rng.int(3) : 1 + rng.int(2);
  if (style === 0) return arg;
  // Single quotes only know the \' escape, so a line break, a NUL or a final backslash (which
  // would escape the closing quote) needs double quotes.
  const singleOk = arg.every((b) => b !== 0x0a && b !== 0x0d && b !== 0x00) && arg[arg.length - 1] !== 0x5c;
  if (style === 2 && singleOk) {
    let out = "'";
    for (const byte of arg) out += byte === 0x27 ? "\\'" : String.fromCharCode(byte);
    return Buffer.from(`${out}'`, 'latin1');
  }
  let out = '"';
  for (const byte of arg) {
    if (byte === 0x0a && rng.int(2) === 0) out += '\\n';
    else if (byte === 0x0d && rng.int(2) === 0) out += '\\r';
    else if (byte === 0x09 && rng.int(2) === 0) out += '\\t';
    else if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else {
      const hex = byte.toString(16).padStart(2, '0');
      out += `\\x${rng.int(2) === 0 ? hex : hex.toUpperCase()}`;
    }
  }
  return Buffer.from(`${out}"`, 'latin1');
}

export function randomInlineArgs(rng: Rng): Buffer[] {
  const args: Buffer[] = [];
  const count = 1 + rng.int(4);
  for (let i = 0; i < count; i++) {
    if (rng.int(3) === 0) {
      args.push(rng.bytes(rng.int(12)));
    } else {
      let word = '';
      const length = 1 + rng.int(10);
      for (let j = 0; j < length; j++) word += kWordChars[rng.int(kWordChars.length)];
      args.push(Buffer.from(word));
    }
  }
  return args;
}

// ------------------------------------------------------------------ mutators

export function mutate(rng: Rng, stream: Buffer): Buffer {
  const out = Buffer.from(stream);
  if (out.length === 0) return out;
  switch (rng.int(7)) {
    case 0: {
      out[rng.int(out.length)] = rng.nextU32() & 0xff;
      return out;
    }
    case 1: {
      out[rng.int(out.length)] = rng.pick(kSpecialBytes);
      return out;
    }
    case 2: {
      const at = rng.int(out.length);
      return Buffer.concat([out.subarray(0, at), rng.bytes(1 + rng.int(4)), out.subarray(at)]);
    }
    case 3: {
      const at = rng.int(out.length);
      return Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + rng.int(6)))]);
    }
    case 4: {
      const at = rng.int(out.length);
      const huge = rng.pick(['99999999999999999999', '1000000000000000', '4294967296', '2147483648', '-1', '00000000000000000001']);
      return Buffer.concat([out.subarray(0, at), Buffer.from(huge), out.subarray(at)]);
    }
    case 5:
      return out.subarray(0, rng.int(out.length));
    default: {
      const at = rng.int(out.length);
      const length = 1 + rng.int(Math.min(32, out.length - at));
      return Buffer.concat([out.subarray(0, at + length), out.subarray(at)]);
    }
  }
}
