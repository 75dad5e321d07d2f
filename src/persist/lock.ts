/**
 * The data directory lock: one frostkv process per data directory (two Skytable servers on one
 * directory lost data, Skytable issue 167).
 *
 * Guarantees: `acquireDataDirLock` creates `<dataDir>/frostkv.lock` exclusively (O_EXCL) holding
 * the owner's pid, host and start time. If the file exists and its pid is a live process on this
 * host, it refuses with ERR_DATA_DIR_LOCKED naming that pid; a lock left by a dead process is
 * taken over. Runs synchronously: it is called once at startup, before anything is served.
 */

import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FrostError } from '../util/errors.js';
import { kLockFileName } from './format.js';

export const kLockedCode = 'ERR_DATA_DIR_LOCKED';

interface LockContent {
  pid: number;
  host: string;
  startedAt: string;
}

export interface DataDirLock {
  path: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

function readHolder(path: string): LockContent | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(path, 'utf8')) as Partial<LockContent>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return null;
    return { pid: parsed.pid, host: parsed.host, startedAt: String(parsed.startedAt ?? '') };
  } catch {
    return null;
  }
}

export function acquireDataDirLock(dataDir: string): DataDirLock {
  const path = join(dataDir, kLockFileName);
  const content: LockContent = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(path, 'wx', 0o644);
      try {
        fs.writeSync(fd, `${JSON.stringify(content)}\n`);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      let released = false;
      return {
        path,
        release(): void {
          if (released) return;
          released = true;
          const holder = readHolder(path);
          if (holder !== null && holder.pid === process.pid && holder.host === content.host) fs.rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') {
        throw new FrostError('ERR_DATA_DIR_UNUSABLE', `cannot create the lock file ${path}: ${(error as Error).message}`);
      }
      const holder = readHolder(path);
      if (holder !== null && holder.host === content.host && isAlive(holder.pid)) {
        const who = holder.pid === process.pid ? 'this process already has it open' : `another frostkv process holds it (pid ${holder.pid}, started ${holder.startedAt})`;
        throw new FrostError(
          kLockedCode,
          `the data directory ${dataDir} is in use: ${who}; two servers on one data directory would overwrite each other's saves`,
        );
      }
      if (holder !== null && holder.host !== content.host) {
        throw new FrostError(
          kLockedCode,
          `the data directory ${dataDir} is locked by pid ${holder.pid} on host ${holder.host}; remove ${path} only if that process is gone`,
        );
      }
      // A stale lock (its process is gone, or the file is unreadable): take it over.
      fs.rmSync(path, { force: true });
    }
  }
  throw new FrostError(kLockedCode, `could not take the lock ${path} (another process keeps taking it)`);
}
