/**
 * The `--help` text, generated from the key registry so that it lists every flag, key and
 * environment variable and can never drift from what the parser accepts.
 */

import { kControlFlags } from './flags.js';
import { kKeys, type KeySpec } from './keys.js';
import type { HelpTopic } from './flags.js';
import { kProdRules } from './validate.js';

const kWidth = 100;
const kIndent = '      ';

function wrap(text: string, indent: string): string {
  const words = text.split(/\s+/).filter((word) => word.length > 0);
  const lines: string[] = [];
  let current = indent;
  for (const word of words) {
    if (current.length > indent.length && current.length + 1 + word.length > kWidth) {
      lines.push(current);
      current = indent;
    }
    current += current.length > indent.length ? ` ${word}` : word;
  }
  if (current.length > indent.length) lines.push(current);
  return lines.join('\n');
}

function tomlKey(spec: KeySpec): string {
  const [section, key] = spec.path.split('.') as [string, string | undefined];
  return key === undefined ? '(flag only)' : `[${section}] ${key}`;
}

function flagUsage(spec: KeySpec): string {
  const flag = spec.flag;
  if (flag === undefined) return '';
  const names = flag.short === undefined ? flag.long : `${flag.short}, ${flag.long}`;
  return flag.valueName === undefined ? names : `${names} ${flag.valueName}`;
}

function switchNote(spec: KeySpec): string {
  const flag = spec.flag;
  if (flag?.switchValue === undefined) return '';
  return ` Switch: sets \`${spec.path}\` to ${flag.switchValue}; ${flag.long}=false does the opposite.`;
}

/** `key: [server] port; env: SKY_SYSTEM_PORT; ...`, broken only between facts so none is split. */
function facts(spec: KeySpec): string {
  const parts = [`key: ${tomlKey(spec)}`];
  if (spec.env !== undefined) parts.push(`env: ${spec.env}`);
  if (spec.doc.unit !== undefined) parts.push(`unit: ${spec.doc.unit}`);
  parts.push(`default: ${spec.doc.defaultText}`);
  const lines: string[] = [];
  let current = '';
  for (const part of parts) {
    const next = current === '' ? part : `${current}; ${part}`;
    if (current !== '' && kIndent.length + next.length > kWidth) {
      lines.push(`${kIndent}${current};`);
      current = part;
    } else {
      current = next;
    }
  }
  lines.push(`${kIndent}${current}`);
  return lines.join('\n');
}

const kFlagMeanings: Readonly<Record<string, string>> = {
  '--nosave': 'Disable BGSAVE: no periodic live save and no final save at shutdown (Skytable 0.7.3+ ignored this flag; frostkv honours it).',
  '--stop-write-on-fail': 'Set `snapshot.failsafe`: refuse writes after a periodic snapshot fails (Skytable 0.7 ignored this flag; frostkv honours it).',
  '--resp-port': 'TCP port of the RESP listener; giving it also turns RESP on.',
  '--resp-host': 'Address the RESP listeners (plain and TLS) bind to; giving it also turns RESP on.',
  '--resp-tls-port': "TCP port of the RESP TLS listener (Redis's tls-port), with the --sslkey/--sslchain certificate; giving it also turns RESP on.",
  '--tlspassin': 'File whose first line is the passphrase of an encrypted --sslkey (Skytable 0.7.3+ ignored this flag; frostkv honours it).',
  '--resp-table': 'The one table RESP commands read and write (`keyspace:table`); giving it also turns RESP on.',
  '--resp': 'Turn the RESP2 listener on (redis-cli, redis-benchmark, ioredis, node-redis).',
  '--snapevery': 'Seconds between periodic local snapshots; with --snapkeep, turns snapshots on (one without the other is an error unless the other comes from the file or environment).',
  '--snapkeep': 'Local snapshots to keep, oldest pruned first; 0 keeps all. See --snapevery.',
};

function mainHelp(): string {
  const out: string[] = [];
  out.push('frostkv: a key-value database server for Node.js that speaks Skytable 0.7 (Skyhash 1.x) and RESP2.');
  out.push('');
  out.push('Usage:');
  out.push('  frostkv [serve] [OPTIONS]');
  out.push(`${kIndent}Run the server. \`serve\` is the default command.`);
  out.push('  frostkv snapshots list|verify|restore|create ...');
  out.push(`${kIndent}Offline snapshot commands and cluster-wide named snapshots; see \`frostkv snapshots --help\`.`);
  out.push('  frostkv -h | --help');
  out.push('  frostkv -v | --version');
  out.push('');
  out.push('Where settings come from (per key, later wins):');
  out.push('  built-in defaults < TOML file (-c FILE) < environment variables < flags');
  out.push(wrap('Every key, with its meaning, unit and default, is documented in frostkv.example.toml. Relative paths resolve against the working directory. Flags take `--flag VALUE` or `--flag=VALUE`; booleans in flags and variables accept true/false, 1/0, yes/no.', '  '));
  out.push('');
  out.push('Options:');
  for (const control of kControlFlags) {
    const names = [...control.short, control.long].join(', ');
    out.push(`  ${control.valueName === undefined ? names : `${names} ${control.valueName}`}`);
    out.push(wrap(control.meaning, kIndent));
  }
  for (const spec of kKeys) {
    if (spec.flag === undefined) continue;
    out.push(`  ${flagUsage(spec)}`);
    const meaning = kFlagMeanings[spec.flag.long] ?? spec.doc.meaning;
    out.push(wrap(`${meaning}${switchNote(spec)}`, kIndent));
    out.push(facts(spec));
  }
  out.push('');
  out.push('Settings without a flag (TOML file or environment only):');
  for (const spec of kKeys) {
    if (spec.flag !== undefined) continue;
    out.push(`  ${tomlKey(spec)}`);
    out.push(wrap(spec.doc.meaning, kIndent));
    out.push(facts(spec));
  }
  out.push('');
  out.push('Environment variables:');
  const envWidth = Math.max(...kKeys.map((spec) => spec.env?.length ?? 0));
  for (const spec of kKeys) {
    if (spec.env === undefined) continue;
    out.push(`  ${spec.env.padEnd(envWidth)}  ${spec.path}`);
  }
  out.push(wrap('Skytable 0.7 names where skyd had them; frostkv additions are SKY_DATA_DIR, SKY_RESP_*, SKY_LIMITS_*, SKY_WORKERS_THREADS and SKY_LOG_*. An empty variable is an error; an unknown SKY_* variable is a warning.', '  '));
  out.push('');
  out.push('Production mode (--mode prod) refuses to start, listing every rule that does not hold:');
  for (const rule of kProdRules) out.push(wrap(`- ${rule.summary}`, '  ').replace(/\n {2}/g, '\n    '));
  out.push('');
  out.push('Signals:');
  out.push(wrap('SIGINT, SIGTERM: stop accepting connections, let an in-flight snapshot finish, run the final save (retried every 10 s). Three more SIGINT/SIGTERM give up on the final save. SIGHUP and SIGPIPE are ignored (closing the terminal loses nothing; SIGHUP is logged once).', '  '));
  out.push('');
  out.push('Exit codes:');
  out.push('  0  stopped cleanly: every acknowledged write is in the final save');
  out.push('  1  could not start (port in use, data directory, load), or the final save failed');
  out.push('  2  bad command line or configuration');
  out.push('  3  gave up on the final save (three more signals): writes since the last successful');
  out.push('     live save are lost, and the log says how many and since when');
  out.push('');
  out.push('Unlike Skytable 0.7: sources combine instead of conflicting; unknown keys are errors;');
  out.push('--nosave and [bgsave] enabled = false really disable saving; --stop-write-on-fail is honoured.');
  return out.join('\n');
}

function snapshotsHelp(): string {
  const out: string[] = [];
  out.push('frostkv snapshots: offline snapshot commands (run them while the server is stopped),');
  out.push('and cluster-wide named snapshots across shards.');
  out.push('');
  out.push('Usage:');
  out.push('  frostkv snapshots list [--data-dir DIR] [-c FILE]');
  out.push(wrap('List local snapshots (DATA/snaps/<YYYYMMDD-HHMMSS>) and named snapshots (DATA/rsnap/<name>): name, cut time, keys, size.', kIndent));
  out.push('  frostkv snapshots verify DIR');
  out.push(wrap('Check the save folder DIR completely: its manifest and every listed file\'s size, record count and checksum. Exits non-zero naming the first file that fails.', kIndent));
  out.push('  frostkv snapshots restore DIR [--data-dir DIR] [-c FILE]');
  out.push(wrap('Verify DIR, move the live save DATA/ks to DATA/backups/<YYYYMMDD-HHMMSS>, and install DIR as the live save, atomically. The server must be stopped (the data directory lock is taken).', kIndent));
  out.push('');
  out.push('Across shards (for example frostkv shards behind twemproxy):');
  out.push('  frostkv snapshots create --hosts H:P,H:P,... --name NAME [--password P] [--timeout SECONDS]');
  out.push(wrap("Send MKSNAP NAME to every shard's RESP address (the host:port a nutcracker YAML lists) at once and print one line per shard. Exits 0 only when every shard took it; the shards that did keep their snapshot when others fail, and the output names the command that completes the set. Each shard's snapshot is an exact cut of that shard; the cuts are not one instant across shards. --password (or FROSTKV_PASSWORD) is sent as RESP AUTH first; --timeout bounds each shard's reply (default 600 s; connecting 5 s).", kIndent));
  out.push('  frostkv snapshots list --hosts H:P,H:P,... [--password P] [--timeout SECONDS]');
  out.push(wrap('Ask every shard for LSSNAP and print which shard holds which named snapshot, marking names missing on some shard INCOMPLETE. Exits 1 when a shard could not be asked. Without --hosts, list is the local listing above.', kIndent));
  out.push('  frostkv snapshots restore --name NAME --data-dirs D1,D2,...');
  out.push(wrap("With every shard stopped and its data directory on this machine: take every data directory's lock, verify every shard's D/rsnap/NAME, and only when all of that succeeds restore each shard from its own rsnap/NAME as above; otherwise nothing changes on any shard. On separate machines, run `frostkv snapshots restore D/rsnap/NAME --data-dir D` (or start with --restore) on each.", kIndent));
  out.push('');
  out.push('Options:');
  out.push('  --data-dir DIR');
  out.push(wrap('Data directory to work on (default ./data); SKY_DATA_DIR and [server] data_dir in the -c file also set it.', kIndent));
  out.push('  -c, --withconfig FILE');
  out.push(wrap('Take the data directory from this TOML file (the whole file must be valid).', kIndent));
  out.push('  -h, --help');
  out.push(wrap('Print this help and exit.', kIndent));
  return out.join('\n');
}

/** The help text the CLI prints for `--help` (`topic` 'snapshots' for `frostkv snapshots --help`). */
export function helpText(topic: HelpTopic = 'main'): string {
  return topic === 'snapshots' ? snapshotsHelp() : mainHelp();
}
