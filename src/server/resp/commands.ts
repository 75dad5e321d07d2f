/**
 * The RESP commands' public names, re-exported from the command table and its shared context
 * (src/server/resp/commands/): the table is in commands/registry.ts, one file per family.
 */

export { kCommandTable, kCommands } from './commands/registry.js';
export { RespContext, RespReply, RespText, arityError, kKeysBatch, kRedisDefaultUser, kScanDefaultCount, type RespCommand } from './commands/context.js';
export { RespClient } from './client.js';
export type { CommandDefinition, CommandEntry } from './commands/table.js';
