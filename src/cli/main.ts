#!/usr/bin/env node
/**
 * The `frostkv` command: `frostkv [serve] [flags]` (the default), `frostkv snapshots
 * list|verify|restore`, their cluster forms (`snapshots create|list|restore` with --hosts /
 * --name, src/cli/cluster.ts), `--help`, `--version`.
 *
 * Guarantees: configuration problems print every problem with its key path and exit 2;
 * commands exit 0 on success and 1 on failure; `serve` exits 3 when the user gave up on the
 * final save (src/server/process-signals.ts has the codes). The process exits as soon as the
 * command's code is known, without waiting for stray handles (an abandoned save's workers).
 */

import { helpText, isConfigError, loadConfig, readOpenFilesLimit } from '../config/load.js';
import { kVersion } from '../version.js';
import { listSnapshots, restoreSnapshot, verifySnapshot } from './snapshots.js';
import { isClusterCommandLine, parseClusterCommand, runClusterCommand } from './cluster.js';
import { isFrostError, ErrorCode } from '../util/errors.js';
import { serve } from './serve.js';

export const kExitUsage = 2;

async function main(argv: readonly string[]): Promise<number> {
  if (isClusterCommandLine(argv)) return clusterMain(argv);
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

/** `frostkv snapshots create|list|restore` across shards (src/cli/cluster.ts): its own flags, the same exit codes. */
async function clusterMain(argv: readonly string[]): Promise<number> {
  let command;
  try {
    command = parseClusterCommand(argv, process.env, process.cwd());
  } catch (error) {
    if (!isFrostError(error, ErrorCode.configUsage)) throw error;
    process.stderr.write(`frostkv: ${error.message}\n(see frostkv snapshots --help)\n`);
    return kExitUsage;
  }
  return runClusterCommand(command);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // A clean stop has closed timers and the worker pool by now; after a give-up the final
    // save's workers may still run. Either way, exit now rather than wait on stray handles.
    setImmediate(() => process.exit(code));
  },
  (error: unknown) => {
    process.stderr.write(`frostkv: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
