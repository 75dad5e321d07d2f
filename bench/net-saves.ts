/**
 * Saves driven over RESP for bench/vs-redis.ts, the same way for Redis and frostkv: BGSAVE,
 * then poll `INFO persistence` until `rdb_bgsave_in_progress` is 0, sampling memory meanwhile;
 * SAVE round trips; and the fields each server reports about its last save.
 *
 * Guarantees: a save that reports failure (`rdb_last_bgsave_status` / frostkv's
 * `frostkv_last_save_status` not ok) throws instead of being timed; the wall duration is from
 * just before BGSAVE is sent to the first poll that sees the save finished, so it carries up to
 * one poll interval of error (kPollMs), the same for both systems.
 */

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RespClient, infoNumber } from './redis-peer.js';
import { childPids, processPrivateBytes, processRssBytes } from './net-proc.js';
import { sleep } from './support.js';

export const kPollMs = 10;
/** /proc/<pid>/smaps_rollup walks the page tables; read memory less often than the save state. */
const kMemorySampleEveryMs = 100;
const kSaveTimeoutMs = 30 * 60_000;

export type SystemName = 'frostkv' | 'redis';

export interface SaveTarget {
  name: SystemName;
  port: number;
  pid: number;
  control: RespClient;
  /** Bytes of the save on disk after it finished. */
  saveSizeBytes(): number;
}

export interface SaveRun {
  startMs: number;
  endMs: number;
  wallMs: number;
  /** The server's own duration figure: frostkv_last_save_duration_ms, Redis rdb_last_bgsave_time_sec * 1000. */
  reportedMs: number;
  /** frostkv_last_cut_pause_ms, or Redis latest_fork_usec / 1000. */
  pauseMs: number;
  /** Highest of: current_cow_size seen while saving, and for frostkv current_cow_peak after. */
  cowPeakBytes: number;
  /** Peak process memory during the save minus before: RSS (frostkv; Redis parent) plus, for Redis, the fork child's private bytes. */
  extraMemoryBytes: number;
  rssBeforeBytes: number;
}

export function directoryBytes(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const entry of readdirSync(path)) total += directoryBytes(join(path, entry));
  return total;
}

function memoryNow(target: SaveTarget, rssBeforeBytes: number): number {
  const rss = processRssBytes(target.pid);
  let extra = rss === null ? 0 : rss - rssBeforeBytes;
  if (target.name === 'redis') {
    for (const child of childPids(target.pid)) extra += processPrivateBytes(child) ?? 0;
  }
  return extra;
}

/** BGSAVE and wait for it, sampling memory. */
export async function bgsave(target: SaveTarget): Promise<SaveRun> {
  const client = target.control;
  const rssBeforeBytes = processRssBytes(target.pid) ?? 0;
  let cowPeakBytes = 0;
  let extraMemoryBytes = 0;
  const startMs = performance.now();
  const reply = await client.command('BGSAVE');
  if (reply !== 'Background saving started') throw new Error(`${target.name} BGSAVE answered ${String(reply)}`);
  let lastMemoryMs = 0;
  let endMs: number;
  for (;;) {
    const info = await client.info('persistence');
    const now = performance.now();
    cowPeakBytes = Math.max(cowPeakBytes, infoNumber(info, 'current_cow_size'));
    if (infoNumber(info, 'rdb_bgsave_in_progress') === 0) {
      endMs = now;
      break;
    }
    if (now - lastMemoryMs >= kMemorySampleEveryMs) {
      lastMemoryMs = now;
      extraMemoryBytes = Math.max(extraMemoryBytes, memoryNow(target, rssBeforeBytes));
    }
    if (now - startMs > kSaveTimeoutMs) throw new Error(`${target.name} BGSAVE still running after ${kSaveTimeoutMs} ms`);
    await sleep(kPollMs);
  }
  const persistence = await client.info('persistence');
  const stats = await client.info('stats');
  let reportedMs: number;
  let pauseMs: number;
  if (target.name === 'frostkv') {
    if (persistence.get('frostkv_last_save_status') !== 'ok') throw new Error(`frostkv save failed: ${persistence.get('frostkv_last_error') ?? ''}`);
    reportedMs = infoNumber(persistence, 'frostkv_last_save_duration_ms');
    pauseMs = infoNumber(persistence, 'frostkv_last_cut_pause_ms');
    cowPeakBytes = Math.max(cowPeakBytes, infoNumber(persistence, 'current_cow_peak'));
  } else {
    if (persistence.get('rdb_last_bgsave_status') !== 'ok') throw new Error('redis BGSAVE failed');
    reportedMs = infoNumber(persistence, 'rdb_last_bgsave_time_sec') * 1000;
    pauseMs = infoNumber(stats, 'latest_fork_usec') / 1000;
    cowPeakBytes = Math.max(cowPeakBytes, infoNumber(persistence, 'rdb_last_cow_size'));
  }
  return { startMs, endMs, wallMs: endMs - startMs, reportedMs, pauseMs, cowPeakBytes, extraMemoryBytes, rssBeforeBytes };
}

/** SAVE round trip (Redis: blocking save in the main thread; frostkv: the live save, replying when durable). */
export async function syncSave(target: SaveTarget): Promise<number> {
  const startMs = performance.now();
  const reply = await target.control.command('SAVE');
  if (reply !== 'OK') throw new Error(`${target.name} SAVE answered ${String(reply)}`);
  return performance.now() - startMs;
}
