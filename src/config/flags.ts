/**
 * The command line: the command (`serve`, the default, or the offline `snapshots` commands)
 * and skyd 0.7's flags plus frostkv's.
 *
 * Guarantees: `--flag value` and `--flag=value` both work; a switch (`--nosave`) takes no
 * separate value but accepts `--nosave=false`; an unknown flag or command, a missing value, or
 * a flag given twice is an ERR_CONFIG_USAGE problem, and all of them are reported together.
 * `-h/--help` and `-v/--version` win over everything else on the line, so help always works,
 * even on a broken command line. Nothing here reads files or the environment.
 */

import { ConfigErrorCode, type ConfigProblem } from './errors.js';
import { kKeys, kKeysByPath, kProtocolNote, kUnsupportedSkytableNames, suggest, type KeySpec } from './keys.js';
import { badValue, emptyReading, impliedResp, type SourceReading } from './source.js';
import { kBoolKind } from './values.js';

export type CommandName = 'serve' | 'help' | 'version' | 'snapshots-list' | 'snapshots-verify' | 'snapshots-restore';
export type HelpTopic = 'main' | 'snapshots';

export interface CommandLine {
  command: CommandName;
  helpTopic: HelpTopic;
  /** The DIR operand of `snapshots verify` / `snapshots restore`, as written. */
  dir: string | null;
  /** `-c/--withconfig`, as written. */
  configFile: string | null;
  reading: SourceReading;
}

type Control = 'config' | 'help' | 'version';

interface FlagEntry {
  spec?: KeySpec;
  control?: Control;
  /** The canonical spelling, for messages. */
  name: string;
}

/** `-c/--withconfig`, `-h/--help`, `-v/--version`: flags that steer the load rather than set a key. */
export const kControlFlags: readonly { long: string; short: string[]; control: Control; valueName?: string; meaning: string }[] = [
  { long: '--withconfig', short: ['-c'], control: 'config', valueName: 'FILE', meaning: 'Read settings from this TOML file (see frostkv.example.toml).' },
  { long: '--help', short: ['-h'], control: 'help', meaning: 'Print this help and exit.' },
  { long: '--version', short: ['-v', '-V'], control: 'version', meaning: 'Print the version and exit.' },
];

function buildFlagTable(): Map<string, FlagEntry> {
  const table = new Map<string, FlagEntry>();
  for (const spec of kKeys) {
    if (spec.flag === undefined) continue;
    const entry = { spec, name: spec.flag.long };
    table.set(spec.flag.long, entry);
    if (spec.flag.short !== undefined) table.set(spec.flag.short, entry);
  }
  for (const control of kControlFlags) {
    const entry = { control: control.control, name: control.long };
    table.set(control.long, entry);
    for (const short of control.short) table.set(short, entry);
  }
  return table;
}

const kFlagTable = buildFlagTable();

/** Words that may follow `-h` as a help topic. */
const kCommandWords = new Set(['serve', 'snapshots', 'help']);

/** Flags the offline snapshot commands accept besides --help (they only need the data dir). */
const kDataDirFlags = new Set(['--withconfig', '--data-dir']);
const kSnapshotCommands: Readonly<Record<string, CommandName>> = {
  list: 'snapshots-list',
  verify: 'snapshots-verify',
  restore: 'snapshots-restore',
};

function usage(message: string): ConfigProblem {
  return { code: ConfigErrorCode.usage, message, keyPath: null, source: 'flag' };
}

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const reading = emptyReading();
  const positionals: string[] = [];
  const seen = new Set<string>();
  const given: string[] = [];
  let configFile: string | null = null;
  let help = false;
  let version = false;

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      positionals.push(token);
      continue;
    }
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const written = eq < 0 ? token : token.slice(0, eq);
    const inline = eq < 0 ? undefined : token.slice(eq + 1);
    const entry = kFlagTable.get(written);
    if (entry === undefined) {
      const hint = suggest(written, [...kFlagTable.keys()].filter((name) => name.startsWith('--')));
      const why = kUnsupportedSkytableNames.has(written) ? `: ${kProtocolNote}` : hint ? ` (did you mean \`${hint}\`?)` : '';
      reading.problems.push(usage(`unknown flag \`${written}\`${why}`));
      continue;
    }
    const next = argv[i + 1];
    if (written === '-h' && next !== undefined && !next.startsWith('-') && !kCommandWords.has(next)) {
      // skyd's cli.yml made -h the short form of --host; a skyd command line must not print help and exit 0.
      reading.problems.push(usage(`\`-h\` means --help in frostkv (skyd used it for --host): write \`--host ${next}\``));
      i++;
      continue;
    }
    if (seen.has(entry.name)) {
      reading.problems.push(usage(`\`${entry.name}\` given more than once`));
      continue;
    }
    seen.add(entry.name);
    given.push(entry.name);

    if (entry.control === 'help' || entry.control === 'version') {
      if (inline !== undefined) reading.problems.push(usage(`\`${entry.name}\` takes no value`));
      else if (entry.control === 'help') help = true;
      else version = true;
      continue;
    }

    const switchValue = entry.spec?.flag?.switchValue;
    let text: string | undefined = inline;
    if (switchValue === undefined && text === undefined) {
      if (next === undefined || next.startsWith('--') || kFlagTable.has(next)) {
        const valueName = entry.spec?.flag?.valueName ?? 'FILE';
        reading.problems.push({
          code: ConfigErrorCode.missing,
          message: `flag \`${entry.name}\` needs a value (${entry.name} ${valueName})`,
          keyPath: entry.spec?.path ?? null,
          source: 'flag',
        });
        continue;
      }
      text = next;
      i++;
    }

    if (entry.control === 'config') {
      if (text === '') reading.problems.push(usage(`flag \`${entry.name}\` needs a non-empty file name`));
      else configFile = text as string;
      continue;
    }
    const spec = entry.spec as KeySpec;
    if (switchValue !== undefined) {
      if (text === undefined) {
        reading.assignments.push({ spec, value: switchValue, source: 'flag', origin: written });
        continue;
      }
      // `--nosave=false` means "do not disable": the switch's value when true, its opposite when false.
      const parsed = kBoolKind.fromText(text);
      if (!parsed.ok) {
        reading.problems.push(badValue(spec, 'flag', written, text, 'a boolean (true, false, 1, 0, yes or no) after `=`, or nothing'));
        continue;
      }
      reading.assignments.push({ spec, value: parsed.value ? switchValue : !switchValue, source: 'flag', origin: written });
      continue;
    }
    const parsed = spec.kind.fromText(text as string);
    if (!parsed.ok) {
      reading.problems.push(badValue(spec, 'flag', written, text, spec.kind.expectedText ?? spec.kind.expected));
      continue;
    }
    reading.assignments.push({ spec, value: parsed.value, source: 'flag', origin: written });
  }
  impliedResp(reading, 'flag', kKeysByPath.get('resp.enabled') as KeySpec);

  const helpTopic: HelpTopic = positionals[0] === 'snapshots' || (positionals[0] === 'help' && positionals[1] === 'snapshots') ? 'snapshots' : 'main';
  if (help || positionals[0] === 'help') {
    return { command: 'help', helpTopic, dir: null, configFile, reading: emptyReading() };
  }
  if (version) return { command: 'version', helpTopic, dir: null, configFile, reading: emptyReading() };

  const { command, dir } = parsePositionals(positionals, reading);
  if (command !== 'serve') {
    const allowed = command === 'snapshots-verify' ? new Set<string>() : kDataDirFlags;
    for (const name of given) {
      if (!allowed.has(name)) {
        reading.problems.push(usage(`\`${name}\` does not apply to \`frostkv ${command.replace('-', ' ')}\``));
      }
    }
  }
  return { command, helpTopic, dir, configFile, reading };
}

function parsePositionals(positionals: readonly string[], reading: SourceReading): { command: CommandName; dir: string | null } {
  const [first, second, third, ...rest] = positionals;
  if (first === undefined) return { command: 'serve', dir: null };
  if (first === 'serve') {
    if (second !== undefined) reading.problems.push(usage(`unexpected argument \`${second}\`: \`frostkv serve\` takes flags only`));
    return { command: 'serve', dir: null };
  }
  if (first !== 'snapshots') {
    const hint = suggest(first, ['serve', 'snapshots', 'help']);
    reading.problems.push(usage(`unknown command \`${first}\`${hint ? ` (did you mean \`${hint}\`?)` : ''}: expected \`serve\` (the default) or \`snapshots\``));
    return { command: 'serve', dir: null };
  }
  const command = second === undefined ? undefined : kSnapshotCommands[second];
  if (command === undefined) {
    const what = second === undefined ? 'needs a subcommand' : `has no subcommand \`${second}\``;
    const where = second === 'create' ? ' (`frostkv snapshots create --hosts H:P,... --name NAME` must start the command line)' : '';
    reading.problems.push(usage(`\`frostkv snapshots\` ${what}: expected \`list\`, \`verify DIR\`, \`restore DIR\` or \`create --hosts H:P,... --name NAME\`${where}`));
    return { command: 'snapshots-list', dir: null };
  }
  if (command === 'snapshots-list') {
    if (third !== undefined) reading.problems.push(usage(`unexpected argument \`${third}\`: \`frostkv snapshots list\` takes no operand`));
    return { command, dir: null };
  }
  if (third === undefined || third === '') {
    reading.problems.push({
      code: ConfigErrorCode.missing,
      message: `\`frostkv snapshots ${second}\` needs the snapshot folder: frostkv snapshots ${second} DIR`,
      keyPath: null,
      source: 'flag',
    });
    return { command, dir: null };
  }
  const extra = rest[0];
  if (extra !== undefined) reading.problems.push(usage(`unexpected argument \`${extra}\`: \`frostkv snapshots ${second}\` takes one folder`));
  return { command, dir: third };
}
