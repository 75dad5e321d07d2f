/**
 * The checks a save must pass before it is published, and that every reader of a save runs
 * again: hash-space coverage, and the error that names a failed check.
 *
 * Every block of a table's data files is one segment of the table at the cut, so a complete
 * save's blocks of one table tile the hash space exactly once (src/table/coverage.ts). A save
 * missing a segment (the torn saves of issue 8) leaves a gap; the same segment encoded twice
 * leaves an overlap. Both are caught by the commit before a save is published, and again by
 * `snapshots verify`, `--restore`, start-up recovery and the load.
 *
 * Guarantees: a failed check is a SaveCheckError (code ERR_SAVE_CHECK) naming the check: a save that fails one is
 * reported failed and never published, and the server keeps running (the previous save stays).
 */

import { ErrorCode, FrostError } from '../util/errors.js';
import type { FsFailureInfo } from './fs-seam.js';

export { hashInBlock, tilingProblem, type BlockList } from '../table/coverage.js';

export class SaveCheckError extends FrostError {
  readonly check: string;
  readonly path: string;
  constructor(check: string, path: string, detail: string) {
    super(ErrorCode.saveCheck, `check "${check}" failed for ${path}: ${detail}`);
    this.name = 'SaveCheckError';
    this.check = check;
    this.path = path;
  }

  get info(): FsFailureInfo {
    return { step: 'invariant', path: this.path, code: this.code, message: this.message, injected: false };
  }
}
