/**
 * Checks across keys, after every source is merged: settings that need each other, limits
 * that must fit together, listeners that would collide, and the production-mode rules.
 *
 * Guarantees: each check names every key it involves and where each value came from; a check
 * is skipped when one of its keys already has a problem of its own, so one mistake is never
 * reported twice in two different words.
 */

import { ConfigErrorCode, type ConfigProblem, type ConfigSource } from './errors.js';
import { kKeysByPath, kRecordBytesMax, kRequestFramingBytes, type KeySpec } from './keys.js';
import type { FrostConfig } from './types.js';

/** The merged configuration with where each key path's value came from. */
export interface Merged {
  config: FrostConfig;
  sources: Map<string, ConfigSource>;
  /** For keys not at their default: `--snapevery`, `SKY_SNAPSHOT_DURATION`, or the file's path. */
  origins: Map<string, string>;
  /**
   * How a key path is written in messages, when not with its TOML name: `open()` names keys as
   * its object spells them (`limits.keyMaxBytes`).
   */
  spell?: (path: string) => string;
}

/** `path` as the person who set it wrote it (see Merged.spell). */
export function named(merged: Merged, path: string): string {
  return merged.spell === undefined ? path : merged.spell(path);
}

export function isSet(merged: Merged, path: string): boolean {
  return (merged.sources.get(path) ?? 'default') !== 'default';
}

/** ` (from --snapevery)`, ` (from /etc/frostkv.toml)`, or ` (default)`. */
export function fromText(merged: Merged, path: string): string {
  const origin = merged.origins.get(path);
  return origin === undefined ? ' (default)' : ` (from ${origin})`;
}

function spec(path: string): KeySpec {
  return kKeysByPath.get(path) as KeySpec;
}

/**
 * The suffix of a "bad value for" line, in the same style as a single value's: ` (from X)` for
 * flags and variables, nothing for the file (the error's header names it), ` (default)`.
 */
function valueSuffix(merged: Merged, path: string): string {
  const source = merged.sources.get(path) ?? 'default';
  if (source === 'file') return '';
  return fromText(merged, path);
}

/** `--snapevery`, `SKY_SNAPSHOT_DURATION`, the file's path, or `the default`. */
export function originOf(merged: Merged, path: string): string {
  return merged.origins.get(path) ?? 'the default';
}

/** `` `snapshot.every` = 60 (from --snapevery) `` */
function shown(merged: Merged, path: string, value: unknown): string {
  const formatted = spec(path).kind.format(value);
  return `\`${named(merged, path)}\` = ${formatted}${fromText(merged, path)}`;
}

const kWildcardHosts = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function hostsOverlap(a: string, b: string): boolean {
  return a === b || kWildcardHosts.has(a) || kWildcardHosts.has(b);
}

/** The cross-checks by name, for a caller that enforces one itself (`open()` checks pairs per object). */
export type CrossCheckId = 'snapshot-pair' | 'ssl-pair' | 'ssl-only' | 'resp-tls' | 'record-fits' | 'request-fits' | 'listeners';

interface CrossCheck {
  id: CrossCheckId;
  /** Key paths the check reads; it is skipped if any of them already has a problem. */
  keys: readonly string[];
  run(merged: Merged): ConfigProblem[];
}

const kCrossChecks: readonly CrossCheck[] = [
  {
    id: 'snapshot-pair',
    keys: ['snapshot.every', 'snapshot.atmost'],
    run(merged) {
      const every = isSet(merged, 'snapshot.every');
      const atmost = isSet(merged, 'snapshot.atmost');
      if (every === atmost) return [];
      const [have, lack] = every ? ['snapshot.every', 'snapshot.atmost'] : ['snapshot.atmost', 'snapshot.every'];
      return [
        {
          code: ConfigErrorCode.missing,
          message:
            `\`${have}\` is set${fromText(merged, have)} but \`${lack}\` is not: snapshots need both ` +
            '(`--snapevery` with `--snapkeep`, SKY_SNAPSHOT_DURATION with SKY_SNAPSHOT_KEEP, or a [snapshot] section with `every` and `atmost`)',
          keyPath: lack,
          source: null,
        },
      ];
    },
  },
  {
    id: 'ssl-pair',
    keys: ['ssl.key', 'ssl.chain'],
    run(merged) {
      const key = isSet(merged, 'ssl.key');
      const chain = isSet(merged, 'ssl.chain');
      if (key === chain) return [];
      const [have, lack] = key ? ['ssl.key', 'ssl.chain'] : ['ssl.chain', 'ssl.key'];
      return [
        {
          code: ConfigErrorCode.missing,
          message: `\`${have}\` is set${fromText(merged, have)} but \`${lack}\` is not: TLS needs both the private key and the certificate chain`,
          keyPath: lack,
          source: null,
        },
      ];
    },
  },
  {
    id: 'ssl-only',
    keys: ['ssl.only', 'ssl.key', 'ssl.chain'],
    run(merged) {
      const { ssl } = merged.config;
      if (!ssl.only || isSet(merged, 'ssl.key') || isSet(merged, 'ssl.chain')) return [];
      return [
        {
          code: ConfigErrorCode.missing,
          message: `\`ssl.only\` is true${fromText(merged, 'ssl.only')} but TLS is not configured: set \`ssl.key\` and \`ssl.chain\` (--sslkey, --sslchain), or there would be no listener at all`,
          keyPath: 'ssl.key',
          source: null,
        },
      ];
    },
  },
  {
    id: 'resp-tls',
    keys: ['resp.tls_port', 'ssl.key', 'ssl.chain'],
    run(merged) {
      // RESP's TLS listener serves the one certificate of [ssl], as Redis serves one tls-cert-file on every TLS port.
      if (merged.config.resp.tlsPort === null || (isSet(merged, 'ssl.key') && isSet(merged, 'ssl.chain'))) return [];
      return [
        {
          code: ConfigErrorCode.missing,
          message: `\`${named(merged, 'resp.tls_port')}\` is set${fromText(merged, 'resp.tls_port')} but TLS is not configured: set \`ssl.key\` and \`ssl.chain\` (--sslkey, --sslchain), whose certificate the RESP TLS listener serves`,
          keyPath: 'ssl.key',
          source: null,
        },
      ];
    },
  },
  {
    id: 'record-fits',
    keys: ['limits.key_max_bytes', 'limits.value_max_bytes'],
    run(merged) {
      const { keyMaxBytes, valueMaxBytes } = merged.config.limits;
      const valueMax = kRecordBytesMax - keyMaxBytes;
      if (valueMaxBytes <= valueMax) return [];
      const [key, value] = [named(merged, 'limits.key_max_bytes'), named(merged, 'limits.value_max_bytes')];
      return [
        {
          code: ConfigErrorCode.badValue,
          message:
            `bad value for \`${value}\`${valueSuffix(merged, 'limits.value_max_bytes')}: expected at most ${valueMax} ` +
            `so that a key of \`${key}\` = ${keyMaxBytes}${fromText(merged, 'limits.key_max_bytes')} and a value fit in one ${kRecordBytesMax}-byte record, got ${valueMaxBytes}`,
          keyPath: 'limits.value_max_bytes',
          source: merged.sources.get('limits.value_max_bytes') ?? null,
        },
      ];
    },
  },
  {
    id: 'request-fits',
    keys: ['limits.key_max_bytes', 'limits.value_max_bytes', 'limits.request_max_bytes'],
    run(merged) {
      const { keyMaxBytes, valueMaxBytes, requestMaxBytes } = merged.config.limits;
      const least = keyMaxBytes + valueMaxBytes + kRequestFramingBytes;
      if (requestMaxBytes >= least) return [];
      const [key, value, request] = ['limits.key_max_bytes', 'limits.value_max_bytes', 'limits.request_max_bytes'].map((path) => named(merged, path));
      return [
        {
          code: ConfigErrorCode.badValue,
          message:
            `bad value for \`${request}\`${valueSuffix(merged, 'limits.request_max_bytes')}: expected at least ${least} ` +
            `(\`${key}\` ${keyMaxBytes} + \`${value}\` ${valueMaxBytes} + ${kRequestFramingBytes} bytes of framing), got ${requestMaxBytes}`,
          keyPath: 'limits.request_max_bytes',
          source: merged.sources.get('limits.request_max_bytes') ?? null,
        },
      ];
    },
  },
  {
    id: 'listeners',
    keys: ['server.host', 'server.port', 'ssl.port', 'ssl.only', 'ssl.key', 'ssl.chain', 'resp.enabled', 'resp.host', 'resp.port', 'resp.tls_port'],
    run(merged) {
      const { server, ssl, resp } = merged.config;
      const listeners: { path: string; host: string; port: number }[] = [];
      if (!(ssl.enabled && ssl.only)) listeners.push({ path: 'server.port', host: server.host, port: server.port });
      if (ssl.enabled) listeners.push({ path: 'ssl.port', host: server.host, port: ssl.port });
      if (resp.enabled) listeners.push({ path: 'resp.port', host: resp.host, port: resp.port });
      if (resp.enabled && resp.tlsPort !== null) listeners.push({ path: 'resp.tls_port', host: resp.host, port: resp.tlsPort });
      const problems: ConfigProblem[] = [];
      for (let i = 0; i < listeners.length; i++) {
        for (let j = i + 1; j < listeners.length; j++) {
          const a = listeners[i] as (typeof listeners)[number];
          const b = listeners[j] as (typeof listeners)[number];
          if (a.port !== b.port || !hostsOverlap(a.host, b.host)) continue;
          problems.push({
            code: ConfigErrorCode.conflict,
            message: `${shown(merged, b.path, b.port)} collides with ${shown(merged, a.path, a.port)}: two listeners cannot share one port on one address`,
            keyPath: b.path,
            source: merged.sources.get(b.path) ?? null,
          });
        }
      }
      return problems;
    },
  },
];

/**
 * Cross-key problems, skipping checks whose keys are in `troubled` (already reported) and the
 * checks in `skip` (enforced by the caller in its own terms).
 */
export function crossCheck(merged: Merged, troubled: ReadonlySet<string>, skip: ReadonlySet<CrossCheckId> = new Set()): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const check of kCrossChecks) {
    if (skip.has(check.id) || check.keys.some((key) => troubled.has(key))) continue;
    problems.push(...check.run(merged));
  }
  return problems;
}

// ---- production mode ----

export interface ProdRule {
  /** One line for the help text and docs. */
  summary: string;
  /** Where the rule comes from. */
  origin: string;
}

export const kProdRules: readonly ProdRule[] = [
  { summary: 'BGSAVE is enabled (no --nosave, no `[bgsave] enabled = false`).', origin: 'Skytable 0.7 (feedback.rs)' },
  { summary: 'When snapshots are on, `snapshot.failsafe` is true.', origin: 'Skytable 0.7 (feedback.rs)' },
  {
    summary: 'TLS is configured (`ssl.key` and `ssl.chain`): Skyhash listens multi-socket (plain and TLS) or TLS-only (`ssl.only`).',
    origin: 'Skytable 0.7 (feedback.rs: "Either multi-socket (TCP and TLS) or TLS only must be enabled")',
  },
  {
    summary: 'When auth is on, Skyhash is TLS-only (`ssl.only`), so the origin key and tokens never cross the network in plain text.',
    origin: 'Skytable 0.7 (feedback.rs: "When authn+authz is enabled, TLS-only mode must be enabled")',
  },
  {
    summary: 'A `server.maxclient` set explicitly does not exceed the process\'s open-files limit (soft RLIMIT_NOFILE), when the CLI could read it; the default is lowered to fit instead.',
    origin: 'Skytable 0.7 (feedback.rs: ResourceLimit::is_over_limit)',
  },
  {
    summary: 'With auth on, the plain RESP listener binds only to a loopback address (remote RESP clients use `resp.tls_port`), so RESP AUTH never sends tokens over the network in plain text.',
    origin: 'frostkv: Skytable\'s "TLS-only when auth is on" rule applied to RESP, whose plain port cannot be closed (Redis closes it with `port 0`)',
  },
];

/** Every production rule that does not hold, one line each. */
export function prodViolations(merged: Merged, openFilesLimit: number | null): ConfigProblem[] {
  const { config } = merged;
  const violations: string[] = [];
  const authOn = config.auth.originKey !== null;
  if (!config.bgsave.enabled) {
    violations.push(`BGSAVE must be enabled: \`bgsave.enabled\` is false${fromText(merged, 'bgsave.enabled')}`);
  }
  if (config.snapshot.enabled && !config.snapshot.failsafe) {
    violations.push(`snapshots must be failsafe: \`snapshot.failsafe\` is false${fromText(merged, 'snapshot.failsafe')}`);
  }
  violations.push(...prodTlsViolations(merged, authOn));
  // A default maxclient the limit cannot hold is lowered by the server at start-up (logged, as
  // Redis does); only a maxclient someone asked for is held to the limit.
  if (openFilesLimit !== null && isSet(merged, 'server.maxclient') && config.server.maxclient > openFilesLimit) {
    violations.push(
      `${shown(merged, 'server.maxclient', config.server.maxclient)} exceeds this process's open-files limit of ${openFilesLimit} (soft RLIMIT_NOFILE): raise it (ulimit -n) or lower \`server.maxclient\``,
    );
  }
  if (authOn && config.resp.enabled && !isLoopbackHost(config.resp.host)) {
    violations.push(
      `auth is on, and the plain RESP listener on ${shown(merged, 'resp.host', config.resp.host)} would let RESP AUTH send tokens over the network in plain text; bind RESP to a loopback address (remote clients use \`resp.tls_port\`) or turn it off`,
    );
  }
  return violations.map((message) => ({ code: ConfigErrorCode.prod, message, keyPath: null, source: null }));
}

/** Skytable 0.7's TLS rules for prod (feedback.rs): TLS always, and TLS-only when auth is on. */
function prodTlsViolations(merged: Merged, authOn: boolean): string[] {
  const { ssl } = merged.config;
  if (!ssl.enabled) {
    const why = authOn ? ` (auth is on: origin key from ${originOf(merged, 'auth.origin_key')})` : '';
    return [
      `TLS must be configured in prod mode${why}: set \`ssl.key\` and \`ssl.chain\` (--sslkey, --sslchain) to listen multi-socket (plain and TLS) or TLS-only (\`ssl.only\`)`,
    ];
  }
  if (authOn && !ssl.only) {
    return [
      `Skyhash must be TLS-only in prod mode when auth is on (origin key from ${originOf(merged, 'auth.origin_key')}): \`ssl.only\` is false${fromText(merged, 'ssl.only')}, so the origin key and user tokens could cross the network in plain text on \`server.port\``,
    ];
  }
  return [];
}
