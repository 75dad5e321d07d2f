/**
 * The process's open-files limit (RLIMIT_NOFILE): reading it (prod mode compares it with
 * `server.maxclient`, as Skytable 0.7 did), raising the soft limit toward the hard one (as
 * Redis's adjustOpenFilesLimit does), and counting the descriptors in use.
 *
 * Guarantees: nothing here throws; a limit that cannot be known (not Linux, unlimited,
 * prlimit missing) is null, and a raise that fails leaves the limit as it was. Node has no
 * getrlimit/setrlimit: the limits are read from /proc/<pid>/limits and raised with util-linux's
 * `prlimit --pid` (present on every Debian), which calls prlimit(2) on our own pid. Node itself
 * raises the soft limit to the hard one at start-up, so from the CLI there is usually nothing
 * left to raise; the raise matters when Node did not (an embedder turned it off). The config
 * module's only side effects are reading the config file and these calls; the CLI calls them
 * and passes the result to loadConfig, which stays a function of its inputs.
 */

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** prlimit answers at once; a stuck one must not stall start-up. */
const kPrlimitTimeoutMs = 2_000;

export interface OpenFilesLimits {
  soft: number | null;
  hard: number | null;
}

function limitValue(text: string | undefined): number | null {
  return text !== undefined && /^[0-9]+$/.test(text) ? Number(text) : null;
}

/** Parse the "Max open files" line of /proc/<pid>/limits; exported for tests. */
export function parseOpenFilesLimits(text: string): OpenFilesLimits {
  for (const line of text.split('\n')) {
    if (!line.startsWith('Max open files')) continue;
    const [soft, hard] = line.slice('Max open files'.length).trim().split(/\s+/);
    return { soft: limitValue(soft), hard: limitValue(hard) };
  }
  return { soft: null, hard: null };
}

/** The soft limit from the text of /proc/<pid>/limits; exported for tests. */
export function parseOpenFilesLimit(text: string): number | null {
  return parseOpenFilesLimits(text).soft;
}

export function readOpenFilesLimits(pid: number = process.pid): OpenFilesLimits {
  try {
    return parseOpenFilesLimits(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  } catch {
    return { soft: null, hard: null };
  }
}

export function readOpenFilesLimit(): number | null {
  return readOpenFilesLimits().soft;
}

/**
 * Raise the soft open-files limit of `pid` to `wantedFiles`, or as close as the hard limit
 * allows, when it is lower. Returns the limits after the attempt.
 */
export function raiseOpenFilesLimit(wantedFiles: number, pid: number = process.pid): OpenFilesLimits {
  const before = readOpenFilesLimits(pid);
  if (before.soft === null || before.hard === null || before.soft >= Math.min(wantedFiles, before.hard)) return before;
  const target = Math.min(wantedFiles, before.hard);
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${target}:${before.hard}`], { stdio: 'ignore', timeout: kPrlimitTimeoutMs });
  } catch {
    return before;
  }
  return readOpenFilesLimits(pid);
}

/** File descriptors this process has open now, or null when /proc cannot tell. */
export function countOpenFds(): number | null {
  try {
    // The directory handle itself is open while it is read: it does not count.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return null;
  }
}
