/**
 * The long run of the kill -9 harness (test/support/kill9.ts): build the server, run many
 * trials, print one JSON line with the counts (trials, kills that landed mid-save, restarts,
 * acknowledged writes, saves and named snapshots, folders checked, failures by kind).
 *
 *   npx tsx bench/kill9.ts --trials 1000 [--seed N] [--run-ms 2000] [--smoke]   (smoke: 2 trials, kills at 1.5-3 s)
 *
 * Progress goes to stderr every 50 trials. Exit code 1 when any trial failed.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kill9Harness } from '../test/support/kill9.js';
import { buildServer } from '../test/support/build.js';
import { emit, note } from './support.js';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const smoke = process.argv.includes('--smoke');
const trials = flag('trials', smoke ? 2 : 1000);
const seed = flag('seed', (Date.now() ^ (process.pid << 16)) >>> 0) >>> 0;
const runMsMax = flag('run-ms', smoke ? 3_000 : 2_000);
// Smoke: two trials must each leave something to check (see Kill9Options.runMsMin).
const runMsMin = smoke ? 1_500 : 0;
const build = buildServer(`kill9-bench-${process.pid}`);
const workDir = mkdtempSync(join(tmpdir(), 'frostkv-kill9-'));
const started = performance.now();
let done = 0;
try {
  const report = await new Kill9Harness({
    trials,
    seed,
    chainLength: 10,
    runMsMax,
    runMsMin,
    keySpace: 20_000,
    preloadOps: 30_000,
    noiseKeys: 100_000,
    workDir,
    serverEntry: build.entry,
    log: (line) => {
      if (line.startsWith('FAILURE')) note(line);
      else if (++done % 50 === 0) note(`${done}/${trials} trials, ${((performance.now() - started) / 1000).toFixed(0)} s`);
    },
  }).run();
  const failed = Object.values(report.failures).reduce((sum, n) => sum + n, 0);
  emit('kill9', smoke ? 'smoke' : 'long', {
    seed,
    trials: report.trials,
    killsMidSave: report.killsMidSave,
    restarts: report.restarts,
    writesAcked: report.writesAcked,
    savesAcked: report.savesAcked,
    namedSnapshotsAcked: report.namedSnapshotsAcked,
    foldersChecked: report.foldersChecked,
    foldersWithCollections: report.foldersWithCollections,
    failuresTotal: failed,
    failures: report.failures,
    firstFailures: report.firstFailures,
    durationSeconds: (performance.now() - started) / 1000,
  });
  if (failed > 0) process.exitCode = 1;
} finally {
  build.remove();
  rmSync(workDir, { recursive: true, force: true });
}
