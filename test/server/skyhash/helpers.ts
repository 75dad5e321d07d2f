/**
 * Shared helpers for the Skyhash conformance tests over a real socket: expected reply bytes
 * built from docs/behaviour.md (Skyhash 1.x) (as latin1 strings, the form `SkyClient.run` returns), a small
 * server starter with one persistence worker, and fresh-table setup so tests stay independent.
 */

import { expect } from 'vitest';
import { SkyClient, type Arg } from '../../support/skyhash.js';
import { startInProcess, type InProcessServer } from '../../support/server.js';
import type { PartialConfig } from '../../../src/config/types.js';

/** Byte length of a latin1 expectation string (each char is one byte). */
function len(bytes: string): number {
  return Buffer.byteLength(bytes, 'latin1');
}

/** Response code element: `!<len>\n<code>\n`. */
export function code(n: number): string {
  const text = String(n);
  return `!${text.length}\n${text}\n`;
}

/** Error string element: `!<len>\n<text>\n`. */
export function err(text: string): string {
  return `!${len(text)}\n${text}\n`;
}

/** String element `+<len>\n<bytes>\n`. */
export function str(text: string): string {
  return `+${len(text)}\n${text}\n`;
}

/** Binary string element `?<len>\n<bytes>\n`. */
export function bin(text: string): string {
  return `?${len(text)}\n${text}\n`;
}

/** Unsigned integer element `:<digits>\n<n>\n`. */
export function uint(n: number): string {
  const text = String(n);
  return `:${text.length}\n${text}\n`;
}

/** Float element `%<len>\n<text>\n`. */
export function float(text: string): string {
  return `%${len(text)}\n${text}\n`;
}

/** Typed array `@<t><n>\n` with `\0\n` for null elements. */
export function typed(t: '+' | '?', items: ReadonlyArray<string | null>): string {
  return `@${t}${items.length}\n${items.map((item) => (item === null ? '\0\n' : `${len(item)}\n${item}\n`)).join('')}`;
}

/** Non-null typed array `^<t><n>\n`. */
export function nonNull(t: '+' | '?', items: readonly string[]): string {
  return `^${t}${items.length}\n${items.map((item) => `${len(item)}\n${item}\n`).join('')}`;
}

/** A whole simple-query response: `*1\n` then the element. */
export function one(element: string): string {
  return `*1\n${element}`;
}

/** A whole pipeline response: `*n\n` then the elements. */
export function many(...elements: string[]): string {
  return `*${elements.length}\n${elements.join('')}`;
}

export const OK = one(code(0));
export const NIL = one(code(1));
export const OVERWRITE = one(code(2));
export const ACTION_ERROR = one(code(3));
export const SERVER_ERROR = one(code(5));
export const WRONG_TYPE = one(code(7));
export const UNKNOWN_DATA_TYPE = one(code(8));
export const ENCODING = one(code(9));
export const WRONG_MODEL = one(err('wrong-model'));
export const UNKNOWN_ACTION = one(err('Unknown action'));

/** Bytes that are not valid UTF-8 (a lone continuation byte and an overlong form). */
export const kBadUtf8 = Buffer.from([0x61, 0x80, 0xc0, 0xaf]);

/** Conformance servers need only one persistence worker (the machine has few cores). */
export async function startServer(partial: PartialConfig = {}): Promise<InProcessServer> {
  return startInProcess({ ...partial, workers: { threads: 1, ...partial.workers } });
}

let tableSeq = 0;

/**
 * Create `default:<unique>` with `model` (e.g. `keymap(str,str)`) and switch `client` to it.
 * Returns the table name.
 */
export async function freshTable(client: SkyClient, model: string, prefix = 't'): Promise<string> {
  tableSeq++;
  const name = `${prefix}${process.pid}_${tableSeq}`;
  const created = await client.run('CREATE', 'TABLE', `default:${name}`, model);
  if (created !== OK) throw new Error(`CREATE TABLE default:${name} ${model} answered ${JSON.stringify(created)}`);
  const used = await client.run('USE', `default:${name}`);
  if (used !== OK) throw new Error(`USE default:${name} answered ${JSON.stringify(used)}`);
  return name;
}

/** A fresh, unused keyspace name. */
export function freshName(prefix = 'n'): string {
  tableSeq++;
  return `${prefix}${process.pid}_${tableSeq}`;
}

/**
 * Decode a simple-query reply holding one typed array (`@` or `^`): its symbols and elements
 * (null for `\0\n`). For replies whose element order is the table's hash order.
 */
export function decodeArray(reply: string): { kind: string; type: string; items: Array<string | null> } {
  const bytes = Buffer.from(reply, 'latin1');
  if (!reply.startsWith('*1\n')) throw new Error(`not a simple reply: ${JSON.stringify(reply.slice(0, 40))}`);
  let at = 3;
  const kind = reply[at] ?? '';
  const type = reply[at + 1] ?? '';
  at += 2;
  const lineEnd = (): number => {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) throw new Error('truncated array');
    return end;
  };
  let end = lineEnd();
  const count = Number(bytes.toString('latin1', at, end));
  at = end + 1;
  const items: Array<string | null> = [];
  for (let i = 0; i < count; i++) {
    if (bytes[at] === 0 && bytes[at + 1] === 0x0a) {
      items.push(null);
      at += 2;
      continue;
    }
    end = lineEnd();
    const size = Number(bytes.toString('latin1', at, end));
    at = end + 1;
    items.push(bytes.toString('latin1', at, at + size));
    if (bytes[at + size] !== 0x0a) throw new Error(`element ${i} is not followed by LF`);
    at += size + 1;
  }
  if (at !== bytes.length) throw new Error(`trailing bytes after the array: ${bytes.length - at}`);
  return { kind, type, items };
}

/** Poll `probe` until it returns true (for state that changes after a socket closes). */
export async function eventually(probe: () => Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Run each `[args, expected reply]` in order on `on`, naming the query in a failure. */
export async function expectRepliesOn(on: SkyClient, steps: ReadonlyArray<readonly [Arg[], string]>, soft = false): Promise<void> {
  for (const [args, expected] of steps) {
    const got = await on.run(...args);
    const name = args.map((a) => (typeof a === 'string' ? a : `<${a.toString('hex')}>`)).join(' ');
    // Soft checks list every query that answers wrongly, not only the first.
    if (soft) expect.soft(got, name).toBe(expected);
    else expect(got, name).toBe(expected);
  }
}
