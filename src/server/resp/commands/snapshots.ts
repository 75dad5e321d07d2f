/**
 * RESP snapshot commands: MKSNAP [name] and LSSNAP, what `frostkv snapshots create|list
 * --hosts` sends to every shard (src/cli/cluster.ts).
 *
 * Guarantees:
 * - MKSNAP is Skyhash's MKSNAP (src/server/skyhash/admin.ts) over RESP: the same persistence
 *   calls, so the same name rules and the same refusals. Without a name a local snapshot in
 *   data/snaps (needs `[snapshot]`), with one a named snapshot in data/rsnap/<name> (works
 *   whether or not local snapshots are configured). It answers `+OK` only once the snapshot is
 *   durable and published; the connection waits, every other connection keeps being served.
 * - Each refusal has its own stable error prefix (the first word, which clients and INFO
 *   errorstats match on): BADSNAPNAME (unsafe name, or not UTF-8), SNAPEXISTS (rsnap/<name>
 *   exists), SNAPDISABLED (no local snapshots configured, or no data directory), SNAPBUSY (a
 *   local snapshot, or one of that name, is being written), SNAPFAILED (the save failed; the
 *   name stays free, so a retry may succeed). A refused MKSNAP creates nothing.
 * - LSSNAP answers the names under data/rsnap that hold a complete save, in name order: the
 *   listing `frostkv snapshots list` prints (Persistence.namedSnapshots).
 * - Both are admin commands (@admin @dangerous; frostkv has no per-user ACL, so any logged-in
 *   user may run them, as on Skyhash) and `no_multi`, as Redis's SAVE: a transaction never
 *   waits on the disk, and EXEC's commands must finish within its turn.
 */

import type { SnapshotResult } from '../../../persist/persistence.js';
import { arityError, fail, type RespCommand } from './context.js';
import type { CommandDefinition } from './table.js';

/** The error prefix of each MKSNAP refusal: part of the interface, never changed. */
export const kSnapshotErrorPrefix = {
  badName: 'BADSNAPNAME',
  exists: 'SNAPEXISTS',
  disabled: 'SNAPDISABLED',
  busy: 'SNAPBUSY',
  failed: 'SNAPFAILED',
} as const;

function refusal(result: SnapshotResult): string | null {
  switch (result.code) {
    case 'ok':
      return null;
    case 'invalid-name':
      return `${kSnapshotErrorPrefix.badName} ${result.message}`;
    case 'duplicate':
      return `${kSnapshotErrorPrefix.exists} ${result.message}`;
    case 'disabled':
      return `${kSnapshotErrorPrefix.disabled} ${result.message}`;
    case 'busy':
      return `${kSnapshotErrorPrefix.busy} ${result.message}`;
    case 'failed':
      return `${kSnapshotErrorPrefix.failed} ${result.message}`;
  }
}

/** The name argument, or a refusal when its bytes are not UTF-8 (Skyhash answers code 9 there). */
function nameArg(bytes: Buffer): string {
  const name = bytes.toString('utf8');
  if (!Buffer.from(name, 'utf8').equals(bytes)) throw fail(`${kSnapshotErrorPrefix.badName} the snapshot name is not valid UTF-8`);
  return name;
}

const mksnap: RespCommand = (ctx, q) => {
  if (q.count > 2) throw arityError('mksnap');
  const persistence = ctx.db.persistence;
  if (persistence === null) throw fail(`${kSnapshotErrorPrefix.disabled} this frostkv has no data directory`);
  const pending = q.count === 1 ? persistence.mkSnapshot() : persistence.mkNamedSnapshot(nameArg(q.buffer.subarray(q.offset(1), q.offset(1) + q.length(1))));
  return pending.then((result) => {
    const text = refusal(result);
    if (text === null) ctx.w.ok();
    else ctx.w.error(text);
  });
};

const lssnap: RespCommand = (ctx) => {
  const persistence = ctx.db.persistence;
  if (persistence === null) {
    ctx.w.array(0);
    return undefined;
  }
  return persistence.namedSnapshots().then((names) => {
    ctx.w.array(names.length);
    for (const name of names) ctx.w.bulk(name);
  });
};

const kAdminFlags = ['admin', 'noscript', 'no_async_loading', 'no_multi'] as const;

export const kSnapshotCommands: readonly CommandDefinition[] = [
  { name: 'mksnap', arity: -1, flags: [...kAdminFlags], group: 'server', run: mksnap },
  { name: 'lssnap', arity: 1, flags: [...kAdminFlags], group: 'server', run: lssnap },
];
