/**
 * MEMORY: what a key costs (MEMORY USAGE), answered from the engine's own accounting.
 *
 * Guarantees: `MEMORY USAGE key [SAMPLES n]` answers an integer estimate for a live key (its
 * record in the segment heap, plus a big value's blob, plus a large hash's collection table)
 * or a null for a missing one; SAMPLES is accepted and checked as Redis does but changes
 * nothing (frostkv measures a large hash's table exactly instead of sampling its fields).
 */

import type { CommandDefinition } from './table.js';
import { RespText, fail, intArg, writeHelp, type RespCommand } from './context.js';

const kMemoryHelp = [
  'USAGE <key> [SAMPLES <count>]',
  '    Estimate the bytes a key and its value take in memory.',
];

const usage: RespCommand = (ctx, q) => {
  if (q.count !== 3) {
    if (q.count !== 5 || !q.argIs(3, 'SAMPLES')) throw fail(RespText.syntax);
    if (intArg(q, 4) < 0n) throw fail(RespText.syntax);
  }
  const bytes = ctx.table().memoryUsage(q.buffer, q.offset(2), q.length(2));
  if (bytes === undefined) ctx.w.nullBulk();
  else ctx.w.integer(bytes);
};

export const kMemoryCommands: readonly CommandDefinition[] = [
  {
    name: 'memory',
    arity: -2,
    flags: [],
    group: 'server',
    subcommands: [
      { name: 'usage', arity: -3, flags: ['readonly'], group: 'server', acl: ['read'], keys: { first: 2, last: 2, step: 1, flags: ['RO'] }, run: usage },
      { name: 'help', arity: 2, flags: ['loading', 'stale'], group: 'server', acl: [], run: (ctx) => writeHelp(ctx, 'MEMORY', kMemoryHelp) },
    ],
  },
];
