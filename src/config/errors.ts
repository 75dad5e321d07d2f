/**
 * Configuration errors.
 *
 * Guarantees: every configuration problem has a stable `code` (match on it, never on text) and,
 * where one exists, the key path it concerns (`snapshot.every`) and the source that supplied
 * the value. Problems are collected, not thrown one at a time: a ConfigError carries every
 * problem found in one load, each on its own line of the message, so a person fixes them all
 * in one round.
 */

import { ErrorCode, FrostError } from '../util/errors.js';

/** The configuration codes, as registered in src/util/errors.ts (the one registry of codes). */
export const ConfigErrorCode = {
  /** A value has the wrong type or is out of range. */
  badValue: ErrorCode.configBadValue,
  /** A key or section the file format (or the object `open()` takes) does not have. */
  unknownKey: ErrorCode.configUnknownKey,
  /** The TOML file does not parse. */
  syntax: ErrorCode.configSyntax,
  /** A key that another key or section requires is absent (e.g. `snapshot.atmost`). */
  missing: ErrorCode.configMissing,
  /** Two settings contradict each other (e.g. `maxcon` and `maxclient`, two listeners on one port). */
  conflict: ErrorCode.configConflict,
  /** The config file cannot be read. */
  file: ErrorCode.configFile,
  /** The command line is malformed: unknown flag or command, missing flag value, flag given twice. */
  usage: ErrorCode.configUsage,
  /** `server.mode = prod` and a production rule does not hold. */
  prod: ErrorCode.configProd,
  /** The error holds problems of more than one kind; see `problems` for each one's code. */
  invalid: ErrorCode.configInvalid,
} as const;

export type ConfigErrorCodeValue = (typeof ConfigErrorCode)[keyof typeof ConfigErrorCode];

/**
 * Where a value came from, lowest precedence first. `api` is the object given to the embedded
 * `open()`, which is never merged with the other sources.
 */
export type ConfigSource = 'default' | 'file' | 'env' | 'flag' | 'api';

export interface ConfigProblem {
  code: ConfigErrorCodeValue;
  /** One line, for a person. */
  message: string;
  /** The key path concerned (`snapshot.every`), or null for problems with no single key. */
  keyPath: string | null;
  source: ConfigSource | null;
}

export class ConfigError extends FrostError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[], header: string) {
    const codes = new Set(problems.map((p) => p.code));
    const only = codes.size === 1 ? [...codes][0] : undefined;
    const code = only ?? ConfigErrorCode.invalid;
    const lines = problems.map((p) => `  - ${p.message}`);
    super(code, `${header}\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof ConfigError;
}
