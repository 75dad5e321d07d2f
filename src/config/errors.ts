/**
 * Configuration errors.
 *
 * Guarantees: every configuration problem has a stable `code` (match on it, never on text) and,
 * where one exists, the key path it concerns (`snapshot.every`) and the source that supplied
 * the value. Problems are collected, not thrown one at a time: a ConfigError carries every
 * problem found in one load, each on its own line of the message, so a person fixes them all
 * in one round.
 */

import { FrostError } from '../util/errors.js';

export const ConfigErrorCode = {
  /** A value has the wrong type or is out of range. */
  badValue: 'ERR_CONFIG_BAD_VALUE',
  /** A key or section the file format does not have. */
  unknownKey: 'ERR_CONFIG_UNKNOWN_KEY',
  /** The TOML file does not parse. */
  syntax: 'ERR_CONFIG_SYNTAX',
  /** A key that another key or section requires is absent (e.g. `snapshot.atmost`). */
  missing: 'ERR_CONFIG_MISSING',
  /** Two settings contradict each other (e.g. `maxcon` and `maxclient`, two listeners on one port). */
  conflict: 'ERR_CONFIG_CONFLICT',
  /** The config file cannot be read. */
  file: 'ERR_CONFIG_FILE',
  /** The command line is malformed: unknown flag or command, missing flag value, flag given twice. */
  usage: 'ERR_CONFIG_USAGE',
  /** `server.mode = prod` and a production rule does not hold. */
  prod: 'ERR_CONFIG_PROD',
  /** The error holds problems of more than one kind; see `problems` for each one's code. */
  invalid: 'ERR_CONFIG_INVALID',
} as const;

export type ConfigErrorCodeValue = (typeof ConfigErrorCode)[keyof typeof ConfigErrorCode];

/** Where a value came from, lowest precedence first. */
export type ConfigSource = 'default' | 'file' | 'env' | 'flag';

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
