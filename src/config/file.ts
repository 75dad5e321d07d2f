/**
 * The TOML config file (`-c/--withconfig <file>`): Skytable 0.7's sections and keys plus
 * frostkv's additions, parsed with smol-toml.
 *
 * Guarantees: a syntax error names the file, line and column; every unknown section and key is
 * an error naming its key path (Skytable silently ignored them, `maxcon` included); every value
 * must have its TOML type. Section rules (Skytable 0.7, kept):
 *   - `[snapshot]` present requires both `every` and `atmost`, and turns snapshots on;
 *   - `maxcon` is accepted as another name for `[server] maxclient`; both present is an error.
 * frostkv's rule: a `[resp]` section turns RESP on unless it says `enabled = false`.
 * Skytable required `[server] host` and `port` and `[ssl] key chain port`; frostkv requires
 * none of them (every key has a default, and `ssl.key`/`ssl.chain` may come from any source).
 */

import { readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { ConfigErrorCode } from './errors.js';
import { kKeys, kKeysByPath, kMaxconAlias, kProtocolNote, kSections, kUnsupportedSkytableNames, suggest, type KeySpec } from './keys.js';
import { badValue, emptyReading, type SourceReading } from './source.js';
import { describeRaw } from './values.js';

/** Read and parse the config file at `file` (an absolute path). */
export function readConfigFile(file: string): SourceReading {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reading = emptyReading();
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    reading.problems.push({
      code: ConfigErrorCode.file,
      message: `cannot read config file \`${file}\`: ${describeFsError(reason)}`,
      keyPath: null,
      source: 'file',
    });
    return reading;
  }
  return parseConfigText(text, file);
}

function describeFsError(code: string): string {
  if (code === 'ENOENT') return 'no such file (ENOENT)';
  if (code === 'EACCES') return 'permission denied (EACCES)';
  if (code === 'EISDIR') return 'it is a directory (EISDIR)';
  return code;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

/** Parse config file text; `file` names the file in messages and provenance. */
export function parseConfigText(text: string, file: string): SourceReading {
  const reading = emptyReading();
  let document: Record<string, unknown>;
  try {
    document = parse(text, { integersAsBigInt: true, unsafeKeyBehaviour: 'throw' }) as Record<string, unknown>;
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const reason = error.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? error.message;
    const excerpt = error.codeblock.trimEnd().split('\n').map((line) => `      ${line}`).join('\n');
    reading.problems.push({
      code: ConfigErrorCode.syntax,
      message: `syntax error in config file \`${file}\` at line ${error.line}, column ${error.column}: ${reason}${excerpt ? `\n${excerpt}` : ''}`,
      keyPath: null,
      source: 'file',
    });
    return reading;
  }

  const knownPaths = kKeys.filter((spec) => spec.inFile).map((spec) => spec.path);
  for (const [name, value] of Object.entries(document)) {
    if (!(kSections as readonly string[]).includes(name)) {
      if (isTable(value)) {
        const hint = suggest(name, kSections);
        reading.problems.push({
          code: ConfigErrorCode.unknownKey,
          message: `unknown section \`[${name}]\` in \`${file}\`${hint ? ` (did you mean \`[${hint}]\`?)` : ` (sections: ${kSections.join(', ')})`}`,
          keyPath: name,
          source: 'file',
        });
      } else {
        const hint = suggest(name, knownPaths.map((p) => p.split('.')[1] ?? p));
        const where = hint ? knownPaths.find((p) => p.endsWith(`.${hint}`)) : undefined;
        reading.problems.push({
          code: ConfigErrorCode.unknownKey,
          message: `unknown key \`${name}\` in \`${file}\`: every key belongs in a section${where ? ` (did you mean \`${where}\`?)` : ''}`,
          keyPath: name,
          source: 'file',
        });
      }
      continue;
    }
    if (!isTable(value)) {
      reading.problems.push({
        code: ConfigErrorCode.badValue,
        message: `bad value for \`${name}\`: expected a section \`[${name}]\`, got ${describeRaw(value)}`,
        keyPath: name,
        source: 'file',
      });
      continue;
    }
    readSection(name, value, file, reading);
  }
  return reading;
}

function readSection(section: string, table: Record<string, unknown>, file: string, reading: SourceReading): void {
  const sectionKeys = kKeys
    .filter((spec) => spec.inFile && spec.path.startsWith(`${section}.`))
    .map((spec) => spec.path.slice(section.length + 1));
  const present = new Set<string>();
  for (const [key, raw] of Object.entries(table)) {
    let path = `${section}.${key}`;
    if (path === kMaxconAlias) {
      if (Object.hasOwn(table, 'maxclient')) {
        reading.problems.push({
          code: ConfigErrorCode.conflict,
          message: `conflicting keys \`server.maxcon\` and \`server.maxclient\` in \`${file}\`: \`maxcon\` is another name for \`maxclient\`; keep one`,
          keyPath: 'server.maxclient',
          source: 'file',
        });
        continue;
      }
      path = 'server.maxclient';
    }
    const spec = kKeysByPath.get(path);
    if (spec === undefined || !spec.inFile) {
      const hint = suggest(key, sectionKeys);
      const why = kUnsupportedSkytableNames.has(path) ? `: ${kProtocolNote}` : hint ? ` (did you mean \`${section}.${hint}\`?)` : '';
      reading.problems.push({
        code: ConfigErrorCode.unknownKey,
        message: `unknown key \`${section}.${key}\` in \`${file}\`${why}`,
        keyPath: `${section}.${key}`,
        source: 'file',
      });
      continue;
    }
    present.add(path);
    readValue(spec, raw, file, reading);
  }

  if (section === 'snapshot') {
    const hasEvery = present.has('snapshot.every');
    const hasAtmost = present.has('snapshot.atmost');
    if (!hasEvery || !hasAtmost) {
      const missing = [hasEvery ? null : '`snapshot.every`', hasAtmost ? null : '`snapshot.atmost`'].filter((m) => m !== null);
      reading.problems.push({
        code: ConfigErrorCode.missing,
        message: `the [snapshot] section in \`${file}\` is missing ${missing.join(' and ')}: snapshots need both \`every\` (seconds) and \`atmost\` (count, 0 keeps all); remove the section to leave snapshots off`,
        keyPath: hasEvery ? 'snapshot.atmost' : 'snapshot.every',
        source: 'file',
      });
    }
  }
  if (section === 'resp' && !present.has('resp.enabled')) {
    const enabled = kKeysByPath.get('resp.enabled') as KeySpec;
    reading.assignments.push({ spec: enabled, value: true, source: 'file', origin: file, implied: true });
  }
}

function readValue(spec: KeySpec, raw: unknown, file: string, reading: SourceReading): void {
  const parsed = spec.kind.fromToml(raw);
  if (!parsed.ok) {
    reading.problems.push(badValue(spec, 'file', file, raw, spec.kind.expected));
    return;
  }
  reading.assignments.push({ spec, value: parsed.value, source: 'file', origin: file });
}
