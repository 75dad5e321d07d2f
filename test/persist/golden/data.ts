/**
 * The contents of the golden format-1 save (test/persist/golden/v1), as a deterministic
 * generator: make-golden.ts wrote the save from it once, and golden.test.ts derives every
 * expected key and value from it, never from the save itself.
 *
 * FROZEN: the save on disk was made from exactly this code. Changing any table, count, seed or
 * formula here makes the golden test fail for the right reason (the expectation moved, not the
 * format). Add a new generator for a new golden save instead.
 */

/** Small, self-contained PRNG (mulberry32), so nothing outside this file can move the data. */
class GoldenRng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(maxExclusive: number): number {
    return this.u32() % maxExclusive;
  }
  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** Text drawn from ASCII, two-, three- and four-byte UTF-8 characters. */
const kAlphabet = ['a', 'b', 'z', '0', '9', ' ', '-', 'é', 'ß', 'Ω', 'ж', '✓', '€', '日', '本', '😀', '🧊'];

function text(rng: GoldenRng, maxChars: number): string {
  const length = rng.int(maxChars + 1);
  let out = '';
  for (let i = 0; i < length; i++) out += kAlphabet[rng.int(kAlphabet.length)] as string;
  return out;
}

/** Bytes of a drawn start and step: not one repeated byte, yet small once git compresses it. */
function patterned(rng: GoldenRng, length: number): Buffer {
  const start = rng.int(256);
  const step = 1 + rng.int(255);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (start + i * step) & 0xff;
  return out;
}

export type GoldenValue = Buffer | Buffer[];

export interface GoldenTable {
  keyspace: string;
  table: string;
  /** CREATE TABLE model expression (default:default exists already and is keymap(binstr,binstr)). */
  model: string;
  volatile: boolean;
  /** Every key and value written, in writing order (keys are unique). */
  rows(): Array<[Buffer, GoldenValue]>;
}

/** A large value: 3 MiB of a repeating 251-byte ASCII pattern (git compresses it to kilobytes). */
export const kLargeValueBytes = 3 * 1024 * 1024;
export function largeValue(): Buffer {
  const out = Buffer.alloc(kLargeValueBytes);
  for (let i = 0; i < out.length; i++) out[i] = 0x21 + ((i * 7 + (i >>> 11)) % 251) % 94;
  return out;
}

/**
 * Enough small records that default:default spans more than 32 segments, so its save has more
 * than one part file (40,000 made exactly 32 segments).
 */
export const kDefaultTableKeys = 52_000;

function defaultRows(): Array<[Buffer, GoldenValue]> {
  const rng = new GoldenRng(1);
  const rows: Array<[Buffer, GoldenValue]> = [];
  for (let i = 0; i < kDefaultTableKeys; i++) {
    const key = Buffer.alloc(3);
    key.writeUIntBE(i, 0, 3);
    rows.push([key, rng.bytes(rng.int(3))]);
  }
  return rows;
}

function scalarRows(seed: number, keyStr: boolean, valueStr: boolean, count: number): Array<[Buffer, GoldenValue]> {
  const rng = new GoldenRng(seed);
  const rows: Array<[Buffer, GoldenValue]> = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    // The index keeps keys unique; the rest of the key is drawn.
    const key = keyStr ? Buffer.from(`${i}:${text(rng, 6)}`, 'utf8') : Buffer.concat([Buffer.from([i & 0xff, i >>> 8]), rng.bytes(rng.int(6))]);
    if (seen.has(key.toString('hex'))) throw new Error('golden generator made a duplicate key');
    seen.add(key.toString('hex'));
    // Mostly small values, some over 4 KiB (stored out of line), one over 64 KiB (32-bit headers).
    const size = i % 97 === 5 ? 4_200 + rng.int(300) : i === 7 ? 70_000 : -1;
    const value = valueStr
      ? Buffer.from(size < 0 ? text(rng, 12) : 'v'.repeat(size), 'utf8')
      : size < 0 ? rng.bytes(rng.int(13)) : patterned(rng, size);
    rows.push([key, value]);
  }
  return rows;
}

function listRows(seed: number, keyStr: boolean, elementStr: boolean, count: number): Array<[Buffer, GoldenValue]> {
  const rng = new GoldenRng(seed);
  const rows: Array<[Buffer, GoldenValue]> = [];
  for (let i = 0; i < count; i++) {
    const key = keyStr ? Buffer.from(`list-${i}-${text(rng, 4)}`, 'utf8') : Buffer.concat([Buffer.from([0, i & 0xff, i >>> 8]), rng.bytes(rng.int(4))]);
    // Empty lists, lists of empty elements, and now and then a long list (over 4 KiB stored).
    const elements = i % 50 === 3 ? 1_500 : rng.int(6);
    const list: Buffer[] = [];
    for (let e = 0; e < elements; e++) list.push(elementStr ? Buffer.from(text(rng, 5), 'utf8') : rng.bytes(rng.int(6)));
    rows.push([key, list]);
  }
  return rows;
}

function withLarge(rows: Array<[Buffer, GoldenValue]>, key: string): Array<[Buffer, GoldenValue]> {
  return [...rows, [Buffer.from(key, 'utf8'), largeValue()]];
}

/** Every table of the golden save, in creation order. Keyspace `vacant` exists and is empty. */
export const kGoldenKeyspaces = ['default', 'golden', 'other', 'vacant'];

export const kGoldenTables: GoldenTable[] = [
  { keyspace: 'default', table: 'default', model: 'keymap(binstr,binstr)', volatile: false, rows: defaultRows },
  { keyspace: 'golden', table: 'str_str', model: 'keymap(str,str)', volatile: false, rows: () => withLarge(scalarRows(11, true, true, 400), 'large-value') },
  { keyspace: 'golden', table: 'str_bin', model: 'keymap(str,binstr)', volatile: false, rows: () => scalarRows(12, true, false, 400) },
  { keyspace: 'golden', table: 'bin_str', model: 'keymap(binstr,str)', volatile: false, rows: () => scalarRows(13, false, true, 400) },
  { keyspace: 'golden', table: 'bin_bin', model: 'keymap(binstr,binstr)', volatile: false, rows: () => scalarRows(14, false, false, 400) },
  { keyspace: 'golden', table: 'str_list_str', model: 'keymap(str,list<str>)', volatile: false, rows: () => listRows(21, true, true, 120) },
  { keyspace: 'golden', table: 'str_list_bin', model: 'keymap(str,list<binstr>)', volatile: false, rows: () => listRows(22, true, false, 120) },
  { keyspace: 'golden', table: 'bin_list_str', model: 'keymap(binstr,list<str>)', volatile: false, rows: () => listRows(23, false, true, 120) },
  { keyspace: 'golden', table: 'bin_list_bin', model: 'keymap(binstr,list<binstr>)', volatile: false, rows: () => listRows(24, false, false, 120) },
  { keyspace: 'golden', table: 'empty', model: 'keymap(str,str)', volatile: false, rows: () => [] },
  { keyspace: 'golden', table: 'scratch', model: 'keymap(str,str)', volatile: true, rows: () => scalarRows(31, true, true, 50) },
  { keyspace: 'other', table: 'notes', model: 'keymap(str,str)', volatile: false, rows: () => scalarRows(41, true, true, 30) },
];
