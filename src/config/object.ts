/**
 * The configuration object of the embedded API: what `open(config)` takes, checked by the same
 * registry (keys.ts), value kinds (values.ts) and cross-checks (validate.ts) as the TOML file,
 * the environment and the flags.
 *
 * Guarantees:
 * - One spelling: FrostConfig's camelCase names (`server.dataDir`, `limits.keyMaxBytes`), as
 *   the TypeScript types declare them. A TOML spelling (`data_dir`) is an unknown key whose
 *   message names the camelCase key; so are typos (with "did you mean") and `maxcon`.
 * - Values have their JavaScript types: integers are integral numbers, booleans are booleans,
 *   strings are strings; `null` means "not set" only for the keys whose default is none
 *   (`ssl.key`, `auth.originKey`, `restore`, ...). Ranges are the loader's.
 * - Sections follow the file's rules: a `snapshot` object turns snapshots on and needs both
 *   `every` and `atmost` (unless it says `enabled: false`); TLS needs `ssl.key` and
 *   `ssl.chain` together; a `resp` object turns RESP on unless it says `enabled: false`.
 * - Every problem is reported at once in one ConfigError (stable `code` per problem, key path
 *   as the object spells it), before anything touches the disk or starts a timer.
 */

import { ConfigError, ConfigErrorCode, type ConfigProblem } from './errors.js';
import { kKeys, kProtocolNote, kSections, kUnsupportedSkytableNames, setAt, suggest, type KeySpec } from './keys.js';
import { kDefaultConfig, type FrostConfig } from './types.js';
import { crossCheck, prodViolations, type CrossCheckId, type Merged } from './validate.js';

const kOrigin = 'open()';
/** The top-level key that is not a section. */
const kRestore = 'restore';
/** Keys of FrostConfig that no source sets directly: the file derives them from their pairs. */
const kDerivedEnabled = new Set(['snapshot', 'ssl']);
/** open() enforces these pairs per section, in its own words (see readSection). */
const kPairChecks: ReadonlySet<CrossCheckId> = new Set(['snapshot-pair', 'ssl-pair']);

/** `server.data_dir` → `server.dataDir`: how the object spells each registry key. */
const kApiPath = new Map<string, string>(kKeys.map((spec) => [spec.path, spec.target.join('.')]));

const kTomlPath = new Map<string, string>([...kApiPath].map(([toml, api]) => [api, toml]));

export function apiPath(tomlPath: string): string {
  return kApiPath.get(tomlPath) ?? tomlPath;
}

/**
 * Configurations that FrostServer.start passes on: the CLI's come from loadConfig, which ran
 * these same checks; test harnesses build theirs on purpose (port 0 for an ephemeral port,
 * request limits below the loader's floor). open() does not check them again.
 */
const kChecked = new WeakSet<object>();

export function markChecked(config: FrostConfig): FrostConfig {
  kChecked.add(config);
  return config;
}

interface SectionKeys {
  /** camelCase field → spec. */
  byField: Map<string, KeySpec>;
  /** TOML field → camelCase field, to name the right key for a TOML spelling. */
  fromToml: Map<string, string>;
}

const kSectionKeys = new Map<string, SectionKeys>(
  kSections.map((section) => {
    const specs = kKeys.filter((spec) => spec.target[0] === section && spec.target[1] !== undefined);
    const byField = new Map(specs.map((spec) => [spec.target[1] as string, spec]));
    const fromToml = new Map(specs.map((spec) => [spec.path.slice(section.length + 1), spec.target[1] as string]));
    return [section, { byField, fromToml }];
  }),
);
const kRestoreSpec = kKeys.find((spec) => spec.path === kRestore) as KeySpec;

interface ObjectReading {
  merged: Merged;
  problems: ConfigProblem[];
  /** TOML paths given a non-null value, valid or not (a bad value is not also "missing"). */
  present: Set<string>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** How a rejected JavaScript value is shown after "got". */
function describeValue(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw);
  if (Array.isArray(raw)) return 'an array';
  if (raw === null) return 'null';
  if (typeof raw === 'object') return 'an object';
  if (typeof raw === 'function') return 'a function';
  return String(raw);
}

function unknownKey(path: string, hint: string): ConfigProblem {
  return { code: ConfigErrorCode.unknownKey, message: `unknown key \`${path}\`${hint}`, keyPath: path, source: 'api' };
}

function badShape(path: string, expected: string, raw: unknown): ConfigProblem {
  return { code: ConfigErrorCode.badValue, message: `bad value for \`${path}\`: expected ${expected}, got ${describeValue(raw)}`, keyPath: path, source: 'api' };
}

/** Read one value with its key's kind; integral numbers go through the kind as the file's integers do. */
function readValue(spec: KeySpec, raw: unknown, reading: ObjectReading): void {
  const path = apiPath(spec.path);
  if (raw === null && defaultOf(spec) === null) return;
  const asToml = typeof raw === 'number' && Number.isSafeInteger(raw) ? BigInt(raw) : raw;
  const parsed = spec.kind.fromToml(asToml);
  if (!parsed.ok) {
    const got = spec.secret === true ? '' : `, got ${describeValue(raw)}`;
    reading.problems.push({ code: ConfigErrorCode.badValue, message: `bad value for \`${path}\`: expected ${spec.kind.expected}${got}`, keyPath: path, source: 'api' });
    return;
  }
  setAt(reading.merged.config, spec, parsed.value);
  reading.merged.sources.set(spec.path, 'api');
  reading.merged.origins.set(spec.path, kOrigin);
}

function defaultOf(spec: KeySpec): unknown {
  const [section, field] = spec.target;
  const top = kDefaultConfig[section] as unknown;
  return field === undefined ? top : (top as Record<string, unknown>)[field];
}

function hintFor(section: string, field: string, keys: SectionKeys): string {
  const camel = keys.fromToml.get(field);
  if (camel !== undefined && camel !== field) {
    return ` (did you mean \`${section}.${camel}\`? \`${field}\` is the TOML file's spelling; open() takes FrostConfig's camelCase names)`;
  }
  if (`${section}.${field}` === 'server.maxcon') return ' (did you mean `server.maxclient`? `maxcon` is only accepted in the TOML file)';
  if (kUnsupportedSkytableNames.has(`${section}.${field}`)) return `: ${kProtocolNote}`;
  const near = suggest(field, [...keys.byField.keys(), ...(kDerivedEnabled.has(section) ? ['enabled'] : [])]);
  return near === null ? '' : ` (did you mean \`${section}.${near}\`?)`;
}

/** Read one section object; returns the `enabled` it gave, if any. */
function readSection(section: string, table: Record<string, unknown>, reading: ObjectReading): boolean | undefined {
  const keys = kSectionKeys.get(section) as SectionKeys;
  let enabled: boolean | undefined;
  for (const [field, raw] of Object.entries(table)) {
    if (raw === undefined) continue;
    if (field === 'enabled' && kDerivedEnabled.has(section)) {
      if (typeof raw === 'boolean') enabled = raw;
      else reading.problems.push(badShape(`${section}.enabled`, 'a boolean (true or false)', raw));
      continue;
    }
    const spec = keys.byField.get(field);
    if (spec === undefined) {
      reading.problems.push(unknownKey(`${section}.${field}`, hintFor(section, field, keys)));
      continue;
    }
    if (raw !== null) reading.present.add(spec.path);
    readValue(spec, raw, reading);
  }
  return enabled;
}

function isSetPath(reading: ObjectReading, tomlPath: string): boolean {
  return reading.present.has(tomlPath);
}

/** Snapshots and TLS: the two settings a section turns on only with both of its keys. */
function checkPair(reading: ObjectReading, section: 'snapshot' | 'ssl', enabled: boolean | undefined): void {
  const [a, b] = section === 'snapshot' ? ['snapshot.every', 'snapshot.atmost'] : ['ssl.key', 'ssl.chain'];
  const hasA = isSetPath(reading, a);
  const hasB = isSetPath(reading, b);
  // A snapshot object means "snapshots on" (as a [snapshot] section does); TLS is on when a key or chain is given.
  const wanted = enabled ?? (section === 'snapshot' ? true : hasA || hasB);
  const on = wanted && hasA && hasB;
  if (section === 'snapshot') reading.merged.config.snapshot.enabled = on;
  else reading.merged.config.ssl.enabled = on;
  if (!wanted || on) return;
  const missing = [hasA ? null : a, hasB ? null : b].filter((path): path is string => path !== null);
  const why =
    section === 'snapshot'
      ? 'snapshots need both `every` (seconds) and `atmost` (count, 0 keeps all); leave `snapshot` out or say `enabled: false` to keep snapshots off'
      : 'TLS needs both the private key and the certificate chain';
  const missingText = missing.map((path) => `\`${apiPath(path)}\``).join(' and ');
  reading.problems.push({
    code: ConfigErrorCode.missing,
    message: `the \`${section}\` object passed to open() is missing ${missingText}: ${why}`,
    keyPath: apiPath(missing[0] as string),
    source: 'api',
  });
}

function readObject(input: Record<string, unknown>): ObjectReading {
  const reading: ObjectReading = {
    merged: { config: structuredClone(kDefaultConfig), sources: new Map(), origins: new Map(), spell: apiPath },
    problems: [],
    present: new Set(),
  };
  const given = new Map<string, boolean | undefined>();
  const topLevel = [...kSections, kRestore];
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (name === kRestore) {
      readValue(kRestoreSpec, value, reading);
    } else if (!(kSections as readonly string[]).includes(name)) {
      const near = suggest(name, topLevel);
      reading.problems.push(unknownKey(name, near === null ? ` (open() takes: ${topLevel.join(', ')})` : ` (did you mean \`${near}\`?)`));
    } else if (!isPlainObject(value)) {
      reading.problems.push(badShape(name, `an object (the \`${name}\` section)`, value));
    } else {
      given.set(name, readSection(name, value, reading));
    }
  }
  if (given.has('snapshot')) checkPair(reading, 'snapshot', given.get('snapshot'));
  if (given.has('ssl')) checkPair(reading, 'ssl', given.get('ssl'));
  if (given.has('resp') && !isSetPath(reading, 'resp.enabled')) reading.merged.config.resp.enabled = true;
  return reading;
}

/**
 * The FrostConfig for `open(input)`: defaults filled in, every key checked. Throws a
 * ConfigError listing every problem. `undefined` is the empty object (all defaults).
 */
export function configForOpen(input: unknown): FrostConfig {
  if (input === undefined) return structuredClone(kDefaultConfig);
  if (isPlainObject(input) && kChecked.has(input)) return input as unknown as FrostConfig;
  if (!isPlainObject(input)) {
    throw new ConfigError([{ ...badShape('config', 'a configuration object such as { server: { dataDir: "./data" } }', input), keyPath: null }], 'invalid configuration passed to open():');
  }
  const { merged, problems } = readObject(input);
  const troubled = new Set(problems.flatMap((problem) => (problem.keyPath === null ? [] : [kTomlPath.get(problem.keyPath) ?? problem.keyPath])));
  const crossProblems = crossCheck(merged, troubled, kPairChecks).map((problem) => ({
    ...problem,
    keyPath: problem.keyPath === null ? null : apiPath(problem.keyPath),
    source: 'api' as const,
  }));
  problems.push(...crossProblems);
  if (problems.length > 0) throw new ConfigError(problems, 'invalid configuration passed to open():');
  if (merged.config.server.mode === 'prod') {
    // The open-files rule needs the CLI's reading of the limit; the embedded API has none.
    const violations = prodViolations(merged, null);
    if (violations.length > 0) throw new ConfigError(violations, 'refusing to open: `server.mode` is prod and these production rules do not hold:');
  }
  return merged.config;
}
