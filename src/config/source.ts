/**
 * What each configuration source (file, environment, flags) yields before merging.
 *
 * Guarantees: an Assignment holds a value that already passed its key's value kind; problems
 * are collected, never thrown, so one load reports everything wrong at once.
 */

import { ConfigErrorCode, type ConfigProblem, type ConfigSource } from './errors.js';
import type { KeySpec } from './keys.js';
import { describeRaw } from './values.js';

export type SetSource = Exclude<ConfigSource, 'default'>;

export interface Assignment {
  spec: KeySpec;
  value: unknown;
  source: SetSource;
  /** Who set it, for people: `--snapevery`, `SKY_SNAPSHOT_DURATION`, or the config file's path. */
  origin: string;
  /** Set as a consequence of another setting (RESP turned on by `--resp-port`). */
  implied?: boolean;
}

export interface SourceReading {
  assignments: Assignment[];
  problems: ConfigProblem[];
  warnings: string[];
}

export function emptyReading(): SourceReading {
  return { assignments: [], problems: [], warnings: [] };
}

/** `(from --snapevery)` for flags and env; nothing for the file or `open()`'s object (the error's header names it). */
export function fromSuffix(source: SetSource, origin: string): string {
  return source === 'file' || source === 'api' ? '' : ` (from ${origin})`;
}

export function badValue(spec: KeySpec, source: SetSource, origin: string, raw: unknown, expected: string): ConfigProblem {
  const got = spec.secret ? '' : `, got ${describeRaw(raw)}`;
  return {
    code: ConfigErrorCode.badValue,
    message: `bad value for \`${spec.path}\`${fromSuffix(source, origin)}: expected ${expected}${got}`,
    keyPath: spec.path,
    source,
  };
}

/** Assignments for keys that turn RESP on, added after the source's explicit ones. */
export function impliedResp(reading: SourceReading, source: SetSource, respEnabled: KeySpec): void {
  if (reading.assignments.some((a) => a.spec === respEnabled)) return;
  const trigger = reading.assignments.find((a) => a.spec.impliesResp === true);
  if (trigger === undefined) return;
  reading.assignments.push({ spec: respEnabled, value: true, source, origin: trigger.origin, implied: true });
}
