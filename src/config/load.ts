/**
 * Loading the server's configuration: defaults < TOML file < environment < flags.
 *
 * Skytable 0.7 refused to combine sources (a file, or env, or flags); frostkv combines them per
 * key, records where every value came from, and reports every problem of every source in one
 * ConfigError. The result is a FrostConfig (src/config/types.ts) with every path made absolute
 * against `cwd`, plus the command the line asked for.
 *
 * Guarantees: `loadConfig` is a function of its inputs plus the config file's contents (it
 * reads no other file: not the TLS key, chain or passphrase, only their paths). It throws a
 * ConfigError (stable `code`, one problem per line) or returns a configuration that passed
 * every check, including the production rules when `server.mode` is prod.
 */

import { resolve } from 'node:path';
import { ConfigError, type ConfigProblem, type ConfigSource } from './errors.js';
import { readEnvironment, type Environment } from './env.js';
import { readConfigFile } from './file.js';
import { parseCommandLine, type HelpTopic } from './flags.js';
import { setAt } from './keys.js';
import { configWarnings, kAllKeyPaths, nonDefaultLines } from './provenance.js';
import { emptyReading, type Assignment, type SourceReading } from './source.js';
import { kDefaultConfig, type FrostConfig } from './types.js';
import { crossCheck, fromText, prodViolations, type Merged } from './validate.js';

export { ConfigError, ConfigErrorCode, isConfigError, type ConfigProblem, type ConfigSource } from './errors.js';
export { helpText } from './help.js';
export { readOpenFilesLimit } from './rlimit.js';
export { kProdRules } from './validate.js';
export type { Environment } from './env.js';

/** What the command line asked for. Paths are absolute. */
export type Command =
  | { kind: 'serve' }
  | { kind: 'help'; topic: HelpTopic }
  | { kind: 'version' }
  | { kind: 'snapshots-list'; dataDir: string }
  | { kind: 'snapshots-verify'; dir: string }
  | { kind: 'snapshots-restore'; dir: string; dataDir: string };

export interface LoadConfigOptions {
  /** The arguments after the program name (process.argv.slice(2)). */
  argv: readonly string[];
  env: Environment;
  /** Relative paths (config file, data dir, TLS files, --restore) resolve against this. */
  cwd: string;
  /**
   * The soft open-files limit (readOpenFilesLimit()), for Skytable's prod rule on maxclient;
   * null or absent skips that rule.
   */
  openFilesLimit?: number | null;
}

export interface LoadedConfig {
  command: Command;
  config: FrostConfig;
  /** Every key path (`snapshot.every`, `snapshot.enabled`, ...) and the source of its value. */
  sources: Map<string, ConfigSource>;
  /** For keys not from defaults: the flag, environment variable or file path that set them. */
  origins: Map<string, string>;
  /** The config file's absolute path, or null when none was given. */
  configFile: string | null;
  /** Things worth logging at startup (BGSAVE disabled, unknown SKY_* variables, ...). */
  warnings: string[];
  /** The working directory the paths were resolved against. */
  cwd: string;
}

/** The defaults with their paths resolved against `cwd`, as loadConfig returns them. */
export function resolvedDefaults(cwd: string): FrostConfig {
  const config = structuredClone(kDefaultConfig);
  resolvePaths(config, cwd);
  return config;
}

function resolvePaths(config: FrostConfig, cwd: string): void {
  config.server.dataDir = resolve(cwd, config.server.dataDir);
  if (config.ssl.key !== null) config.ssl.key = resolve(cwd, config.ssl.key);
  if (config.ssl.chain !== null) config.ssl.chain = resolve(cwd, config.ssl.chain);
  if (config.ssl.passin !== null) config.ssl.passin = resolve(cwd, config.ssl.passin);
  if (config.restore !== null) config.restore = resolve(cwd, config.restore);
}

function defaultSources(): Map<string, ConfigSource> {
  return new Map(kAllKeyPaths.map((path) => [path, 'default' as ConfigSource]));
}

const kPrecedence: Readonly<Record<ConfigSource, number>> = { default: 0, file: 1, env: 2, flag: 3, api: 1 };

function apply(merged: Merged, assignment: Assignment): void {
  setAt(merged.config, assignment.spec, assignment.value);
  merged.sources.set(assignment.spec.path, assignment.source);
  merged.origins.set(assignment.spec.path, assignment.origin);
}

/** `snapshot.enabled` and `ssl.enabled` follow from their pairs; their source is the later of the two. */
function derive(merged: Merged, flag: 'snapshot.enabled' | 'ssl.enabled', pair: readonly [string, string]): void {
  const [a, b] = pair;
  const sourceA = merged.sources.get(a) ?? 'default';
  const sourceB = merged.sources.get(b) ?? 'default';
  const enabled = sourceA !== 'default' && sourceB !== 'default';
  if (flag === 'snapshot.enabled') merged.config.snapshot.enabled = enabled;
  else merged.config.ssl.enabled = enabled;
  if (!enabled) return;
  const later = kPrecedence[sourceA] >= kPrecedence[sourceB] ? a : b;
  merged.sources.set(flag, merged.sources.get(later) ?? 'default');
  const origin = merged.origins.get(later);
  if (origin !== undefined) merged.origins.set(flag, origin);
}

export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const { argv, env, cwd } = options;
  const openFilesLimit = options.openFilesLimit ?? null;
  const line = parseCommandLine(argv);
  const base = (command: Command): LoadedConfig => ({
    command,
    config: resolvedDefaults(cwd),
    sources: defaultSources(),
    origins: new Map(),
    configFile: null,
    warnings: [],
    cwd,
  });

  if (line.command === 'help') return base({ kind: 'help', topic: line.helpTopic });
  if (line.command === 'version') return base({ kind: 'version' });
  if (line.command === 'snapshots-verify') {
    // Verifying a folder needs nothing but the folder: no file, no environment.
    if (line.reading.problems.length > 0) throw new ConfigError(line.reading.problems, 'invalid command line:');
    return base({ kind: 'snapshots-verify', dir: resolve(cwd, line.dir as string) });
  }

  const configFile = line.configFile === null ? null : resolve(cwd, line.configFile);
  const readings: SourceReading[] = [
    configFile === null ? emptyReading() : readConfigFile(configFile),
    readEnvironment(env),
    line.reading,
  ];
  const problems: ConfigProblem[] = readings.flatMap((reading) => reading.problems);

  const merged: Merged = { config: structuredClone(kDefaultConfig), sources: defaultSources(), origins: new Map() };
  for (const reading of readings) {
    for (const assignment of reading.assignments) apply(merged, assignment);
  }
  derive(merged, 'snapshot.enabled', ['snapshot.every', 'snapshot.atmost']);
  derive(merged, 'ssl.enabled', ['ssl.key', 'ssl.chain']);
  resolvePaths(merged.config, cwd);

  const troubled = new Set(problems.map((problem) => problem.keyPath).filter((path): path is string => path !== null));
  problems.push(...crossCheck(merged, troubled));
  if (problems.length > 0) {
    const where = configFile === null ? '' : ` (config file \`${configFile}\`)`;
    throw new ConfigError(problems, `invalid configuration${where}:`);
  }

  if (line.command === 'serve' && merged.config.server.mode === 'prod') {
    const violations = prodViolations(merged, openFilesLimit);
    if (violations.length > 0) {
      throw new ConfigError(
        violations,
        `refusing to start: \`server.mode\` is prod${fromText(merged, 'server.mode')} and these production rules do not hold:`,
      );
    }
  }

  const dataDir = merged.config.server.dataDir;
  let command: Command;
  if (line.command === 'snapshots-list') command = { kind: 'snapshots-list', dataDir };
  else if (line.command === 'snapshots-restore') command = { kind: 'snapshots-restore', dir: resolve(cwd, line.dir as string), dataDir };
  else command = { kind: 'serve' };

  return {
    command,
    config: merged.config,
    sources: merged.sources,
    origins: merged.origins,
    configFile,
    warnings: [...readings.flatMap((reading) => reading.warnings), ...configWarnings(merged, openFilesLimit)],
    cwd,
  };
}

/** `snapshot.every = 60 (from --snapevery)`: one line per key not at its default, for the banner. */
export function describeNonDefaults(loaded: LoadedConfig): string[] {
  return nonDefaultLines({ config: loaded.config, sources: loaded.sources, origins: loaded.origins }, resolvedDefaults(loaded.cwd));
}
