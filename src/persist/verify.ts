/**
 * The checks every reader of a save runs over a whole folder, beyond each file's own: for each
 * table, its files' blocks tile the hash space exactly once (no segment missing, none twice),
 * and its files' records add up to the manifest's count. `snapshots verify`, `--restore`,
 * start-up recovery and the load all use `tableProblems`; `verifyFolder` is the sequential
 * form for a single worker thread (start-up recovery must verify a candidate completely
 * before it moves or removes anything).
 *
 * Guarantees: a folder passes only if the manifest parses (its crc32 line included), every
 * listed file matches its size and crc32 and decodes with every record in its block, and
 * every table passes `tableProblems`. Problems are FsFailureInfo values naming the file or
 * table and the check, never thrown.
 */

import { join } from 'node:path';
import { ErrorCode } from '../util/errors.js';
import type { FsFailureInfo, FsSeam } from './fs-seam.js';
import { decodeTask, type DecodeResult } from './decode.js';
import { tilingProblem, type BlockList } from './checks.js';
import { FormatError, kManifestFileName, parseManifest, type Manifest } from './format.js';

/** The decoded result of one listed file, by its manifest path. */
export type DecodedFiles = ReadonlyMap<string, Extract<DecodeResult, { ok: true }>>;

function tableProblem(path: string, check: string, detail: string): FsFailureInfo {
  return { step: 'verify', path, code: ErrorCode.corruptSave, message: `${path}: ${check} failed: ${detail}`, injected: false };
}

/** Per-table checks of a save in `dir` whose files all decoded (missing entries are skipped). */
export function tableProblems(dir: string, manifest: Manifest, decoded: DecodedFiles): FsFailureInfo[] {
  const problems: FsFailureInfo[] = [];
  for (const space of manifest.keyspaces) {
    for (const table of space.tables) {
      const where = join(dir, kManifestFileName);
      const entity = `${space.name}:${table.name}`;
      const recordsListed = table.files.reduce((sum, file) => sum + file.records, 0);
      if (recordsListed !== table.records) {
        problems.push(tableProblem(where, 'table record count', `table ${entity} says ${table.records} records, its files hold ${recordsListed}`));
      }
      if (table.model.volatile === true) {
        if (table.files.length > 0) problems.push(tableProblem(where, 'volatile tables hold no data', `volatile table ${entity} lists ${table.files.length} files`));
        continue;
      }
      if (!table.files.every((file) => decoded.has(file.path))) continue;
      const blocks: BlockList = [];
      for (const file of table.files) blocks.push(...(decoded.get(file.path)?.blocks ?? []));
      const problem = tilingProblem(blocks);
      if (problem !== null) problems.push(tableProblem(where, 'blocks cover the hash space', `table ${entity}: ${problem}`));
    }
  }
  return problems;
}

export interface FolderVerdict {
  manifest: Manifest | null;
  problems: FsFailureInfo[];
}

/** Verify a whole save folder in this thread (manifest, every file, every table). */
export function verifyFolder(seam: FsSeam, dir: string): FolderVerdict {
  const path = join(dir, kManifestFileName);
  let manifest: Manifest;
  try {
    manifest = parseManifest(seam.readFile(path), path);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = error instanceof FormatError ? error.code : ErrorCode.corruptSave;
    return { manifest: null, problems: [{ step: 'verify', path, code, message, injected: false }] };
  }
  const problems: FsFailureInfo[] = [];
  const decoded = new Map<string, Extract<DecodeResult, { ok: true }>>();
  for (const space of manifest.keyspaces) {
    for (const table of space.tables) {
      for (const file of table.files) {
        const result = decodeTask({
          kind: 'decode',
          dir,
          keyspace: space.name,
          table: table.name,
          model: table.model,
          hashSeed: table.hashSeed,
          file,
          build: false,
          faults: null,
        });
        if (result.ok) decoded.set(file.path, result);
        else problems.push(result.failure);
      }
    }
  }
  problems.push(...tableProblems(dir, manifest, decoded));
  return { manifest, problems };
}
