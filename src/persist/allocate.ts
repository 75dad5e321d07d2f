/**
 * Allocating table buffers off the main thread (runs in a worker): fresh memory costs about
 * 13 microseconds per 4 KiB page on first touch here, so the pool's reserve is allocated and
 * every page written once in a worker, then handed to the main thread warm.
 *
 * Guarantees: every buffer returned is zero-filled and has had each of its pages written.
 */

import { kHeapBytes, kMetaBytes } from '../table/layout.js';

export const kPageBytes = 4096;

export interface AllocateTask {
  kind: 'allocate';
  metas: number;
  heaps: number;
}

function touched(bytes: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(bytes);
  const view = new Uint8Array(sab);
  // Writing a zero onto a zero page still faults it in: the page is ours from now on.
  for (let at = 0; at < bytes; at += kPageBytes) view[at] = 0;
  return sab;
}

export function allocateTask(task: AllocateTask): { metas: SharedArrayBuffer[]; heaps: SharedArrayBuffer[] } {
  const metas: SharedArrayBuffer[] = [];
  const heaps: SharedArrayBuffer[] = [];
  for (let i = 0; i < task.metas; i++) metas.push(touched(kMetaBytes));
  for (let i = 0; i < task.heaps; i++) heaps.push(touched(kHeapBytes));
  return { metas, heaps };
}
