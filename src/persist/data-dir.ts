/**
 * The data directory itself, checked at open (the server, the embedded API, `snapshots
 * restore`) before the lock is taken.
 *
 * Guarantees: `ensureDataDir(path)` returns only when `path` is a directory (created with its
 * parents if missing); otherwise it throws ERR_DATA_DIR_UNUSABLE naming the path, what was
 * expected (a directory frostkv can write to) and the cause: a regular file in the way ("is a
 * regular file, not a directory"), a read-only file system (EROFS), no permission (EACCES), no
 * space (ENOSPC). Whether the directory is writable is proven by the lock file, the first thing
 * written there (src/persist/lock.ts), whose failure is described the same way.
 */

import * as fs from 'node:fs';
import { ErrorCode, FrostError } from '../util/errors.js';
import { kindOf, mkdirFailure } from './fs-errors.js';

const kExpected = 'expected a directory frostkv can write to';

/** The real cause of a failed `mkdir -p dataDir`, naming the data directory once. */
function unusable(dataDir: string, error: unknown): FrostError {
  const prefix = `cannot create the folder ${dataDir}: `;
  const { message } = mkdirFailure(dataDir, error);
  const cause = message.startsWith(prefix) ? message.slice(prefix.length) : message;
  return new FrostError(ErrorCode.dataDirUnusable, `the data directory ${dataDir} cannot be created or used (${kExpected}): ${cause}`);
}

export function ensureDataDir(dataDir: string): void {
  let stats: fs.Stats | undefined;
  try {
    stats = fs.statSync(dataDir, { throwIfNoEntry: false });
  } catch (error) {
    // ENOTDIR (a file in the path) and EACCES (a parent without search permission) land here.
    throw unusable(dataDir, error);
  }
  if (stats !== undefined) {
    if (stats.isDirectory()) return;
    throw new FrostError(
      ErrorCode.dataDirUnusable,
      `the data directory ${dataDir} is ${kindOf(stats)}, not a directory (${kExpected}; move it away or choose another --data-dir)`,
    );
  }
  try {
    fs.mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    throw unusable(dataDir, error);
  }
}
