/**
 * Piscina entry point for persistence work. Every task is an object with a `kind`; the default
 * export dispatches on it. The logic lives in src/persist (and src/table for digests) so it can
 * be tested on its own; this file only wires it to the pool.
 */

import { lowerThreadPriority } from '../src/persist/priority.js';
import { addSegment, emptyDigest, type Digest } from '../src/table/digest.js';
import type { FrozenSegmentWire } from '../src/table/generation.js';
import { kSegmentStatusDone } from '../src/table/layout.js';
import { viewFromWire } from '../src/table/wire.js';
import { encodeTask, type EncodeTask } from '../src/persist/encode.js';
import { allocateTask, type AllocateTask } from '../src/persist/allocate.js';
import { decodeTask, type DecodeTask } from '../src/persist/decode.js';
import {
  cleanupTask,
  commitTask,
  recoverTask,
  removeTask,
  type CleanupTask,
  type CommitTask,
  type RecoverTask,
  type RemoveTask,
} from '../src/persist/commit.js';
import {
  copySaveTask,
  diskUsageTask,
  findSavesTask,
  installRestoreTask,
  listSnapshotsTask,
  pruneTask,
  readManifestTask,
  type CopySaveTask,
  type DiskUsageTask,
  type FindSavesTask,
  type InstallRestoreTask,
  type ListSnapshotsTask,
  type PruneTask,
  type ReadManifestTask,
} from '../src/persist/dirs.js';

// Saves must never slow the main thread: on a busy machine the kernel should run the main
// thread first and give workers the CPU time it leaves.
lowerThreadPriority();

export interface DigestTask {
  kind: 'digest';
  segments: FrozenSegmentWire[];
  status: Int32Array;
  statusIndexes: number[];
  /** Optional pause between segments, so tests can interleave main-thread writes. */
  pauseEverySegmentMs?: number;
}

/** Digest frozen segments, marking each done in the shared status array as it finishes. */
export async function digest(task: DigestTask): Promise<Digest> {
  const result = emptyDigest();
  for (let i = 0; i < task.segments.length; i++) {
    addSegment(result, viewFromWire(task.segments[i] as FrozenSegmentWire));
    Atomics.store(task.status, task.statusIndexes[i] as number, kSegmentStatusDone);
    if (task.pauseEverySegmentMs !== undefined) await new Promise((resolve) => setTimeout(resolve, task.pauseEverySegmentMs));
  }
  return result;
}

export type WorkerTask =
  | DigestTask
  | EncodeTask
  | DecodeTask
  | CommitTask
  | RemoveTask
  | RecoverTask
  | CleanupTask
  | ReadManifestTask
  | ListSnapshotsTask
  | PruneTask
  | DiskUsageTask
  | FindSavesTask
  | CopySaveTask
  | InstallRestoreTask
  | AllocateTask;

export default async function handle(task: WorkerTask): Promise<unknown> {
  switch (task.kind) {
    case 'digest':
      return digest(task);
    case 'encode':
      return encodeTask(task);
    case 'decode':
      return decodeTask(task);
    case 'commit':
      return commitTask(task);
    case 'remove':
      return removeTask(task);
    case 'recover':
      return recoverTask(task);
    case 'cleanup':
      return cleanupTask(task);
    case 'readManifest':
      return readManifestTask(task);
    case 'listSnapshots':
      return listSnapshotsTask(task);
    case 'prune':
      return pruneTask(task);
    case 'diskUsage':
      return diskUsageTask(task);
    case 'findSaves':
      return findSavesTask(task);
    case 'copySave':
      return copySaveTask(task);
    case 'installRestore':
      return installRestoreTask(task);
    case 'allocate':
      return allocateTask(task);
    default:
      throw new Error(`unknown worker task ${JSON.stringify((task as { kind?: unknown }).kind)}`);
  }
}
