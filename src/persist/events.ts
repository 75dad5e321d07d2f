/**
 * What persistence tells the embedding program, beside its log lines: the Database re-emits
 * each of these as an event of the same name (`db.on('saveFailed', ...)`).
 *
 * Guarantees: every event carries the same figures as the log line written with it, as plain
 * data (no class instances), so a listener can log, count or alert without parsing text.
 */

import type { SaveKind } from './save.js';
import type { ReadOnlyCause } from './failsafe.js';

/** A save was published (or, for the live save, swapped into data/ks). */
export interface SaveEvent {
  type: 'save';
  kind: SaveKind;
  path: string;
  keys: number;
  bytes: number;
  durationMs: number;
  cutPauseMs: number;
  cowBytesPeak: number;
}

/** A save failed; nothing was published and the previous copy is intact. */
export interface SaveFailedEvent {
  type: 'saveFailed';
  kind: SaveKind;
  path: string;
  /** The step that failed (an fs operation, 'exists', 'verify' or 'invariant'). */
  step: string;
  /** The errno or frostkv error code behind it. */
  code: string;
  message: string;
}

/** A periodic save found nothing changed since the last one of its kind and wrote nothing. */
export interface SaveSkippedEvent {
  type: 'saveSkipped';
  kind: 'bgsave' | 'snapshot';
  reason: string;
}

/** Writes are refused from now on (or a further cause was added while they were). */
export interface ReadOnlyEvent {
  type: 'readOnly';
  cause: ReadOnlyCause;
  causes: ReadOnlyCause[];
  reason: string;
}

/** Writes are accepted again. */
export interface ReadWriteEvent {
  type: 'readWrite';
  why: string;
  cleared: ReadOnlyCause[];
}

export type PersistenceEvent = SaveEvent | SaveFailedEvent | SaveSkippedEvent | ReadOnlyEvent | ReadWriteEvent;

export type PersistenceEventName = PersistenceEvent['type'];
