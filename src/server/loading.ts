/**
 * What clients see while the data set loads. The listeners open before `Database.open`
 * resolves (so a port in use fails at once, before a long load), and a connection accepted
 * meanwhile is served, not refused: every request is answered "loading" until the data set is
 * in memory, and from then on the same connection runs requests normally.
 *
 * Guarantees: a driver reads `source.loadedDb` for every request, so nothing reaches the
 * engine before the load has finished, and no request is ever answered from a partial load.
 */

import type { Database } from '../database.js';

/** Where the drivers find the database: null until the data set has loaded. */
export interface DatabaseSource {
  readonly loadedDb: Database | null;
}

/** A source that is loaded from the start (a database opened elsewhere). */
export function loadedSource(db: Database): DatabaseSource {
  return { loadedDb: db };
}

/**
 * Skyhash's reply element for every query during the load. Skytable 0.7 loaded before it
 * listened, so it had no such reply; this follows its `err-*` string errors.
 */
export const kSkyhashLoadingError = 'err-loading';

/** RESP's reply during the load: Redis 7's text, which clients such as ioredis recognise. */
export const kRespLoadingError = 'LOADING Redis is loading the dataset in memory';
