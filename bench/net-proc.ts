/**
 * Linux /proc readings for the network benches: CPU time and memory of a server process (and of
 * the child it forks, for Redis's BGSAVE). On 2 shared cores the load generator and the server
 * compete for CPU, so the benches report who used how much.
 *
 * Guarantees: every reading returns null instead of throwing when /proc (or the process) is not
 * there, so the benches still run elsewhere.
 */

import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux builds in practice). */
const kClockTicksPerSecond = 100;
const kPageBytes = 4096;

/** User + system CPU time of `pid` in ms (all its threads), or null. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const user = Number(fields[11]);
    const system = Number(fields[12]);
    if (!Number.isFinite(user) || !Number.isFinite(system)) return null;
    return ((user + system) * 1000) / kClockTicksPerSecond;
  } catch {
    return null;
  }
}

/** Resident set size of `pid` in bytes (/proc/<pid>/statm), or null. */
export function processRssBytes(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ');
    const pages = Number(fields[1]);
    return Number.isFinite(pages) ? pages * kPageBytes : null;
  } catch {
    return null;
  }
}

/** Child pids of `pid` (all threads' children), or an empty list. */
export function childPids(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim();
    return text === '' ? [] : text.split(' ').map(Number).filter((n) => Number.isFinite(n) && n > 0);
  } catch {
    return [];
  }
}

/**
 * Private (unshared) bytes of `pid` from /proc/<pid>/smaps_rollup: for a fork child these are
 * the pages its parent has copied away since the fork, that is the copy-on-write cost.
 */
export function processPrivateBytes(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
    let kib = 0;
    for (const match of text.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+) kB$/gm)) kib += Number(match[1]);
    return kib * 1024;
  } catch {
    return null;
  }
}
