/**
 * HSCAN key cursor [MATCH pattern] [COUNT count], with Redis 7.0's checks, order of checks and
 * reply (`[cursor, [field, value, ...]]` in both protocols; NOVALUES is Redis 7.4's, so refused).
 *
 * Guarantees:
 * - The cursor is checked first (`ERR invalid cursor`), then the key (a missing key answers the
 *   empty scan `[0, []]` without reading the options, as Redis does), then the options.
 * - A small (inline) hash answers every field at once with cursor 0 whatever the cursor given,
 *   as Redis's listpack hashes do; a large one is walked in hash order, so a field present from the first call to
 *   the last of a full iteration is returned exactly once. Cursors are 32-bit hash positions,
 *   like SCAN's: one at or past 2^32 answers cursor 0 and nothing.
 * - COUNT is a hint (fields looked at per call, before MATCH filters them), as in Redis.
 */

import { globMatch, isMatchAll } from '../glob.js';
import { RespText, fail, intArg, kScanDefaultCount, type RespCommand } from './context.js';
import { readHash } from './hash-lookup.js';
import { parseCursor } from './keyspace.js';
import { keyAt, type CommandDefinition } from './table.js';

/** Fields looked at per call are capped here whatever COUNT says (a hint, as in Redis). */
const kHashScanCountMax = 1_000_000n;
/** frostkv's field cursor is a position in the 32-bit hash space. */
const kCursorSpace = 2n ** 32n;
/** Options start after `HSCAN key cursor`. */
const kFirstOption = 3;

const hscan: RespCommand = (ctx, q) => {
  const parsed = parseCursor(q.argString(2, 'latin1'));
  if (parsed === null) throw fail(RespText.invalidCursor);
  const t = ctx.table();
  const found = readHash(ctx, t, q, 1);
  let pattern: Buffer | null = null;
  let count = kScanDefaultCount;
  if (found) {
    for (let i = kFirstOption; i < q.count; i += 2) {
      if (i + 1 >= q.count) throw fail(RespText.syntax);
      if (q.argIs(i, 'COUNT')) {
        const n = intArg(q, i + 1);
        if (n < 1n) throw fail(RespText.syntax);
        count = Number(n > kHashScanCountMax ? kHashScanCountMax : n);
      } else if (q.argIs(i, 'MATCH')) {
        const given = Buffer.from(q.arg(i + 1));
        pattern = isMatchAll(given) ? null : given;
      } else throw fail(RespText.syntax);
    }
  }
  const out: Buffer[] = [];
  let cursor = 0;
  const key = q.arg(1);
  // A small hash answers everything whatever the cursor (hashScan ignores it), as Redis's listpacks do.
  if (found && (parsed < kCursorSpace || !t.hashIsLarge(key))) {
    cursor = parsed < kCursorSpace ? Number(parsed) : 0;
    let visited = 0;
    do {
      cursor = t.hashScan(key, cursor, (field, value) => {
        visited++;
        if (pattern !== null && !globMatch(pattern, field)) return;
        out.push(field, value);
      });
    } while (cursor !== 0 && visited < count);
  }
  ctx.w.array(2);
  ctx.w.bulk(String(cursor));
  ctx.w.array(out.length);
  for (const item of out) ctx.w.bulk(item);
};

export const kHashScanCommands: readonly CommandDefinition[] = [
  { name: 'hscan', arity: -3, flags: ['readonly'], group: 'hash', acl: ['hash'], keys: keyAt(1, ['RO', 'access']), tips: ['nondeterministic_output'], run: hscan },
];
