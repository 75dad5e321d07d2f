/**
 * The RESP command table: every family's definitions in one CommandTable (table.ts). Adding a
 * command is an edit to its family file only; a family is added here once.
 */

import { kConnectionCommands } from './connection.js';
import { kExpiryCommands } from './expiry.js';
import { kHashCommands } from './hashes.js';
import { kKeyspaceCommands } from './keyspace.js';
import { kMemoryCommands } from './memory.js';
import { kServerCommands } from './server.js';
import { kShutdownCommands } from './shutdown.js';
import { kSnapshotCommands } from './snapshots.js';
import { kStringCommands } from './strings.js';
import { CommandTable, type CommandEntry } from './table.js';
import { kTransactionCommands } from './transactions.js';

export const kCommandTable = new CommandTable([
  kStringCommands,
  kKeyspaceCommands,
  kExpiryCommands,
  kHashCommands,
  kTransactionCommands,
  kConnectionCommands,
  kServerCommands,
  kSnapshotCommands,
  kShutdownCommands,
  kMemoryCommands,
]);

/** Upper-case name -> entry, for callers that iterate the commands (tests, tools). */
export const kCommands: ReadonlyMap<string, CommandEntry> = new Map(kCommandTable.entries.map((entry) => [entry.fullName.toUpperCase(), entry]));
