/**
 * Environment variables: skyd 0.7's names (server/src/config/cfgenv.rs) plus frostkv's own.
 *
 * Guarantees: a variable that is set is validated like a flag value (an empty value is an
 * error, not "unset", so a typo in a deployment script cannot silently fall back to a
 * default); a `SKY_*` variable frostkv does not know is a warning, not an error, because the
 * environment is shared with other programs. Any RESP variable other than SKY_RESP_ENABLED
 * turns RESP on unless SKY_RESP_ENABLED is also set.
 */

import { kKeys, kKeysByEnv, kKeysByPath, kProtocolNote, kUnsupportedSkytableNames, suggest, type KeySpec } from './keys.js';
import { badValue, emptyReading, impliedResp, type SourceReading } from './source.js';

export type Environment = Readonly<Record<string, string | undefined>>;

const kEnvPrefix = 'SKY_';

export function readEnvironment(env: Environment): SourceReading {
  const reading = emptyReading();
  for (const spec of kKeys) {
    if (spec.env === undefined) continue;
    const text = env[spec.env];
    if (text === undefined) continue;
    const parsed = spec.kind.fromText(text);
    if (!parsed.ok) {
      const expected = spec.kind.expectedText ?? spec.kind.expected;
      const note = text === '' ? ' (the variable is set but empty; unset it to use the default)' : '';
      reading.problems.push(badValue(spec, 'env', spec.env, text, `${expected}${note}`));
      continue;
    }
    reading.assignments.push({ spec, value: parsed.value, source: 'env', origin: spec.env });
  }
  impliedResp(reading, 'env', kKeysByPath.get('resp.enabled') as KeySpec);

  const known = [...kKeysByEnv.keys()];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(kEnvPrefix) || kKeysByEnv.has(name) || env[name] === undefined) continue;
    const hint = suggest(name, known);
    const why = kUnsupportedSkytableNames.has(name) ? ` (${kProtocolNote})` : hint ? ` (did you mean ${hint}?)` : '';
    reading.warnings.push(`unknown environment variable ${name} is ignored${why}`);
  }
  return reading;
}
