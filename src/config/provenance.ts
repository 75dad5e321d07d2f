/**
 * Where each setting came from, for the startup banner, and the warnings a loaded
 * configuration deserves.
 *
 * Guarantees: secrets (the origin key) are never shown; a line is printed for every key whose
 * value differs from its default, with the flag, environment variable or file that set it.
 */

import { getAt, kKeys, type KeySpec } from './keys.js';
import { fromText, isLoopbackHost, isSet, originOf, type Merged } from './validate.js';
import type { FrostConfig } from './types.js';

/** Every key path in display order, derived keys beside the keys that decide them. */
export const kAllKeyPaths: readonly string[] = kKeys.flatMap((spec) => {
  if (spec.path === 'snapshot.every') return ['snapshot.enabled', spec.path];
  if (spec.path === 'ssl.key') return ['ssl.enabled', spec.path];
  return [spec.path];
});

const kSpecByPath = new Map<string, KeySpec>(kKeys.map((spec) => [spec.path, spec]));

/** Derived keys: set by load.ts from their pairs, never by a source directly. */
function valueAt(config: FrostConfig, path: string): unknown {
  if (path === 'snapshot.enabled') return config.snapshot.enabled;
  if (path === 'ssl.enabled') return config.ssl.enabled;
  const spec = kSpecByPath.get(path);
  return spec === undefined ? undefined : getAt(config, spec);
}

function formatValue(path: string, value: unknown): string {
  const spec = kSpecByPath.get(path);
  if (spec === undefined || value === null) return value === null ? 'none' : String(value);
  return spec.kind.format(value);
}

/** `snapshot.every = 60 (from --snapevery)` for every key not at its default value. */
export function nonDefaultLines(merged: Merged, defaults: FrostConfig): string[] {
  const lines: string[] = [];
  for (const path of kAllKeyPaths) {
    if (!isSet(merged, path)) continue;
    const value = valueAt(merged.config, path);
    if (Object.is(value, valueAt(defaults, path))) continue;
    lines.push(`${path} = ${formatValue(path, value)}${fromText(merged, path)}`);
  }
  return lines;
}

/** Warnings about a valid configuration that is probably not what its author wants. */
export function configWarnings(merged: Merged, openFilesLimit: number | null): string[] {
  const { config } = merged;
  const warnings: string[] = [];
  if (!config.bgsave.enabled) {
    warnings.push(
      `BGSAVE is disabled (by ${originOf(merged, 'bgsave.enabled')}): no periodic save and no final save at shutdown; a crash or restart loses all data written since start`,
    );
    if (isSet(merged, 'bgsave.every')) warnings.push(`\`bgsave.every\`${fromText(merged, 'bgsave.every')} has no effect while BGSAVE is disabled`);
  }
  if (!config.snapshot.enabled && isSet(merged, 'snapshot.failsafe')) {
    warnings.push(`\`snapshot.failsafe\`${fromText(merged, 'snapshot.failsafe')} has no effect while snapshots are off`);
  }
  if (!config.ssl.enabled) {
    for (const path of ['ssl.port', 'ssl.passin']) {
      if (isSet(merged, path)) warnings.push(`\`${path}\`${fromText(merged, path)} has no effect while TLS is off`);
    }
  }
  const authOn = config.auth.originKey !== null;
  if (authOn && !config.ssl.enabled) {
    warnings.push('auth is on but TLS is off: the origin key and user tokens cross the network in plain text');
  }
  if (merged.origins.get('auth.origin_key')?.startsWith('--') === true) {
    warnings.push('--auth-origin-key shows the origin key to anyone who can list processes; prefer SKY_AUTH_ORIGIN_KEY or the config file');
  }
  if (!authOn && !isLoopbackHost(config.server.host)) {
    warnings.push(`Skyhash listens on ${config.server.host} without auth: anyone who can reach it can read and write every table`);
  }
  if (!authOn && config.resp.enabled && !isLoopbackHost(config.resp.host)) {
    warnings.push(`RESP listens on ${config.resp.host}:${config.resp.port} without auth: anyone who can reach it can read and write \`${config.resp.table}\``);
  }
  if (config.server.mode === 'dev' && openFilesLimit !== null && isSet(merged, 'server.maxclient') && config.server.maxclient > openFilesLimit) {
    warnings.push(
      `\`server.maxclient\` = ${config.server.maxclient} exceeds this process's open-files limit of ${openFilesLimit}: the server lowers it to fit (prod mode refuses this)`,
    );
  }
  return warnings;
}
