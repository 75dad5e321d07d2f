/**
 * Human descriptions of file-system errors: which path, what was wanted of it, and the cause.
 *
 * Guarantees:
 * - `describeFsError` names the path, the action that failed and the cause in words, with the
 *   errno code in parentheses (`... the file system is read-only (EROFS)`), never Node's bare
 *   `ENOENT: no such file or directory, mkdir '...'`.
 * - `mkdirFailure` finds the real reason a recursive mkdir failed. Node's recursive mkdir
 *   answers ENOENT when it cannot create a missing parent (a read-only or unwritable parent)
 *   and EEXIST when a file holds the name; this walks up to the deepest existing ancestor and
 *   reports what is wrong there: not a directory, or the errno of creating the next level
 *   (EROFS, EACCES, ENOSPC, ...). It may create that one missing level while probing, and
 *   removes it again.
 * Synchronous: used by the seam (worker threads) and at startup before anything is served.
 */

import * as fs from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

const kCauses: Readonly<Record<string, string>> = {
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EEXIST: 'something already exists there',
  ENOENT: 'it does not exist',
  ENOTEMPTY: 'the folder is not empty',
  EIO: 'an I/O error from the device',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files in this process',
  ENFILE: 'too many open files in the system',
  ENAMETOOLONG: 'the name is too long',
  EXDEV: 'the source and target are on different file systems',
  EBUSY: 'the device or resource is busy',
};

export function errnoOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

/** The cause in words, with the code: `the file system is read-only (EROFS)`. */
export function causeOf(code: string, fallback?: string): string {
  const words = kCauses[code] ?? fallback ?? 'an unexpected error';
  return `${words} (${code})`;
}

/** `cannot <action> <path>: <cause> (<CODE>)`. */
export function describeFsError(action: string, path: string, error: unknown): string {
  const code = errnoOf(error);
  const raw = (error as { message?: unknown } | null)?.message;
  return `cannot ${action} ${path}: ${causeOf(code, typeof raw === 'string' ? raw : undefined)}`;
}

/** What a path is, for messages: `a regular file`, `a symbolic link`, ... */
export function kindOf(stats: fs.Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isSocket()) return 'a socket';
  if (stats.isFIFO()) return 'a named pipe';
  return 'a device';
}

export interface MkdirDiagnosis {
  code: string;
  message: string;
}

function lstatOrNull(path: string): fs.Stats | null {
  try {
    return fs.lstatSync(path, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

function statOrNull(path: string): fs.Stats | null {
  try {
    return fs.statSync(path, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

/** The real reason `mkdir -p path` failed with `error` (see the header). */
export function mkdirFailure(path: string, error: unknown): MkdirDiagnosis {
  const original = { code: errnoOf(error), message: describeFsError('create the folder', path, error) };
  let existing = path;
  while (lstatOrNull(existing) === null) {
    const parent = dirname(existing);
    if (parent === existing) return original;
    existing = parent;
  }
  const stats = statOrNull(existing);
  if (stats === null) {
    return { code: 'ENOENT', message: `cannot create the folder ${path}: ${existing} is a symbolic link to nothing (ENOENT)` };
  }
  if (!stats.isDirectory()) {
    return { code: 'ENOTDIR', message: `cannot create the folder ${path}: ${existing} is ${kindOf(stats)}, not a directory (ENOTDIR)` };
  }
  if (existing === path) return original;
  const next = join(existing, relative(existing, path).split(sep)[0] as string);
  try {
    fs.mkdirSync(next);
  } catch (probe) {
    return { code: errnoOf(probe), message: `cannot create the folder ${path}: creating ${next} failed: ${causeOf(errnoOf(probe))}` };
  }
  // The probe succeeded, so the first failure was a race or a deeper level: undo the probe.
  try {
    fs.rmdirSync(next);
  } catch {
    // Left empty; harmless, and removed with its parent.
  }
  return original;
}
