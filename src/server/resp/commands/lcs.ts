/**
 * LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN] (Redis 7.0): the longest common
 * subsequence of two string values, its length, or its matching ranges.
 *
 * Guarantees:
 * - A missing key is the empty string; a key of another type is Redis's "The specified keys
 *   must contain string values", checked before the options.
 * - The dynamic-programming table is refused (Redis's text) when it would take more bytes than
 *   the table's value limit, before it is allocated.
 * - IDX answers the matches from the end of the strings backwards, as Redis does, as a map
 *   (`matches`, `len`): a RESP3 map, a flat array of four in RESP2.
 */

import type { ArgView } from '../../../protocol/args.js';
import { valueView, ValueType } from '../../../engine/value.js';
import { RespText, fail, intArg, type RespCommand, type RespContext } from './context.js';
import { copyView } from './string-values.js';
import { keyAt, type CommandDefinition } from './table.js';

const kCellBytes = 4;

interface LcsOptions {
  len: boolean;
  idx: boolean;
  withMatchLen: boolean;
  minMatchLen: bigint;
}

function stringOrEmpty(ctx: RespContext, q: ArgView, i: number): Buffer {
  if (!ctx.table().findRange(q.buffer, q.offset(i), q.length(i))) return Buffer.alloc(0);
  if (valueView.type !== ValueType.string) throw fail('ERR The specified keys must contain string values');
  return copyView();
}

function parseOptions(q: ArgView): LcsOptions {
  const o: LcsOptions = { len: false, idx: false, withMatchLen: false, minMatchLen: 0n };
  for (let j = 3; j < q.count; j++) {
    if (q.argIs(j, 'IDX')) o.idx = true;
    else if (q.argIs(j, 'LEN')) o.len = true;
    else if (q.argIs(j, 'WITHMATCHLEN')) o.withMatchLen = true;
    else if (q.argIs(j, 'MINMATCHLEN') && j + 1 < q.count) {
      const n = intArg(q, ++j);
      o.minMatchLen = n < 0n ? 0n : n;
    } else throw fail(RespText.syntax);
  }
  if (o.len && o.idx) throw fail('ERR If you want both the length and indexes, please just use IDX.');
  return o;
}

/** The (alen+1) x (blen+1) table of LCS lengths of every pair of prefixes. */
function lengths(a: Buffer, b: Buffer): Uint32Array {
  const width = b.length + 1;
  const table = new Uint32Array((a.length + 1) * width);
  for (let i = 1; i <= a.length; i++) {
    const row = i * width;
    const up = row - width;
    for (let j = 1; j <= b.length; j++) {
      if (a[i - 1] === b[j - 1]) table[row + j] = (table[up + j - 1] as number) + 1;
      else {
        const fromUp = table[up + j] as number;
        const fromLeft = table[row + j - 1] as number;
        table[row + j] = fromUp > fromLeft ? fromUp : fromLeft;
      }
    }
  }
  return table;
}

/** One matching range: [aStart, aEnd], [bStart, bEnd] (inclusive). */
type Match = [number, number, number, number];

/** Walk back from the end: the LCS text and its ranges (Redis's order: last range first). */
function walk(a: Buffer, b: Buffer, table: Uint32Array): { text: Buffer; matches: Match[] } {
  const width = b.length + 1;
  let k = table[a.length * width + b.length] as number;
  const text = Buffer.alloc(k);
  const matches: Match[] = [];
  let range: Match | null = null;
  let i = a.length;
  let j = b.length;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a[i - 1] === b[j - 1]) {
      text[--k] = a[i - 1] as number;
      if (range === null) range = [i - 1, i - 1, j - 1, j - 1];
      else if (range[0] === i && range[2] === j) {
        range[0]--;
        range[2]--;
      } else emit = true;
      if (range[0] === 0 || range[2] === 0) emit = true;
      i--;
      j--;
    } else {
      if ((table[(i - 1) * width + j] as number) > (table[i * width + j - 1] as number)) i--;
      else j--;
      if (range !== null) emit = true;
    }
    if (emit && range !== null) {
      matches.push(range);
      range = null;
    }
  }
  return { text, matches };
}

const lcs: RespCommand = (ctx, q) => {
  const a = stringOrEmpty(ctx, q, 1);
  const b = stringOrEmpty(ctx, q, 2);
  const o = parseOptions(q);
  const cells = (a.length + 1) * (b.length + 1);
  if (cells * kCellBytes > ctx.db.engine.valueMaxBytes) throw fail('ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');
  const table = lengths(a, b);
  const total = table[cells - 1] as number;
  if (o.len) return ctx.w.integer(total);
  const { text, matches } = walk(a, b, table);
  if (!o.idx) return ctx.w.bulk(text);
  const kept = matches.filter((m) => o.minMatchLen === 0n || BigInt(m[1] - m[0] + 1) >= o.minMatchLen);
  ctx.w.map(2);
  ctx.w.bulk('matches');
  ctx.w.array(kept.length);
  for (const [aStart, aEnd, bStart, bEnd] of kept) {
    ctx.w.array(o.withMatchLen ? 3 : 2);
    ctx.w.array(2);
    ctx.w.integer(aStart);
    ctx.w.integer(aEnd);
    ctx.w.array(2);
    ctx.w.integer(bStart);
    ctx.w.integer(bEnd);
    if (o.withMatchLen) ctx.w.integer(aEnd - aStart + 1);
  }
  ctx.w.bulk('len');
  ctx.w.integer(total);
};

export const kLcsCommands: readonly CommandDefinition[] = [
  { name: 'lcs', arity: -3, flags: ['readonly'], group: 'string', acl: ['string'], keys: keyAt(1, ['RO', 'access'], 2), run: lcs },
];
