/**
 * frostkv's embedded API: `open()` a database in-process, get table handles, read and write
 * synchronously, snapshot, read the status, close.
 *
 *   import { open } from 'frostkv';
 *   const db = await open({ server: { dataDir: './data' } });
 *   const t = db.table();            // default:default
 *   t.set('k', 'v');
 *   await db.snapshot('before-migration');
 *   db.on('saveFailed', (e) => alert(e.message));   // also: save, saveSkipped, readOnly, readWrite
 *   await db.close();                 // final save
 */

export { open, Database, type OpenOptions, type DatabaseStatus, type DatabaseEvents } from './database.js';
export { TableHandle } from './engine/handle.js';
export { parseModel, describeModel, type TableModel, type KeyType, type ValueType } from './engine/model.js';
export { FrostError, ErrorCode, isFrostError } from './util/errors.js';
export { kDefaultConfig, withDefaults, type FrostConfig, type PartialConfig } from './config/types.js';
export { silentLogger, stderrLogger, type Logger, type LogFields } from './util/log.js';
export type { SaveEvent, SaveFailedEvent, SaveSkippedEvent, ReadOnlyEvent, ReadWriteEvent } from './persist/events.js';
export type { ReadOnlyCause } from './persist/failsafe.js';
export type { PersistenceStatus, SnapshotResult, SnapshotCode, LiveSaveResult, SaveOutcome } from './persist/persistence.js';
export { kVersion as version } from './version.js';
