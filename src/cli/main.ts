#!/usr/bin/env node
/**
 * The `frostkv` command: `frostkv [serve] [flags]` (the default), `frostkv snapshots
 * list|verify|restore`, `--help`, `--version`.
 *
 * Guarantees: configuration problems print every problem with its key path and exit 2;
 * commands exit 0 on success and 1 on failure.
 */

import { helpText, isConfigError, loadConfig, readOpenFilesLimit } from '../config/load.js';
import { kVersion } from '../version.js';
import { listSnapshots, restoreSnapshot, verifySnapshot } from './snapshots.js';
import { serve } from './serve.js';

export const kExitUsage = 2;

async function main(argv: readonly string[]): Promise<number> {
  let loaded;
  try {
    loaded = loadConfig({ argv, env: process.env, cwd: process.cwd(), openFilesLimit: readOpenFilesLimit() });
  } catch (error) {
    if (!isConfigError(error)) throw error;
    process.stderr.write(`frostkv: ${error.message}\n(see frostkv --help)\n`);
    return kExitUsage;
  }
  const command = loaded.command;
  switch (command.kind) {
    case 'help':
      process.stdout.write(helpText(command.topic));
      return 0;
    case 'version':
      process.stdout.write(`frostkv ${kVersion}\n`);
      return 0;
    case 'snapshots-list':
      return listSnapshots(command.dataDir);
    case 'snapshots-verify':
      return verifySnapshot(command.dir);
    case 'snapshots-restore':
      return restoreSnapshot(command.dir, command.dataDir);
    case 'serve':
      return serve(loaded);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Timers and the worker pool are closed by now; exit without waiting on stray handles.
    setImmediate(() => process.exit(code));
  },
  (error: unknown) => {
    process.stderr.write(`frostkv: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
