/**
 * The process's open-files limit (soft RLIMIT_NOFILE), which prod mode compares with
 * `server.maxclient` as Skytable 0.7 did.
 *
 * Guarantees: returns null when the limit cannot be known (not Linux, or unlimited), never
 * throws. Node has no getrlimit, so this reads /proc/self/limits; it is the one side effect of
 * the config module besides reading the config file, and the CLI calls it and passes the
 * result to loadConfig, which stays a function of its inputs.
 */

import { readFileSync } from 'node:fs';

const kLimitsFile = '/proc/self/limits';

/** Parse the text of /proc/<pid>/limits; exported for tests. */
export function parseOpenFilesLimit(text: string): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith('Max open files')) continue;
    const soft = line.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === undefined || !/^[0-9]+$/.test(soft)) return null;
    return Number(soft);
  }
  return null;
}

export function readOpenFilesLimit(): number | null {
  try {
    return parseOpenFilesLimit(readFileSync(kLimitsFile, 'utf8'));
  } catch {
    return null;
  }
}
