import { afterAll, describe, expect, it } from 'vitest';
import { kKeys, kRecordBytesMax, kRequestFramingBytes, kRequestMaxBytesMax, kSecondsMax } from '../../src/config/keys.js';
import { configError, kOriginKey, load, TempDir } from './support.js';

const dir = new TempDir();
afterAll(() => dir.remove());

interface ValueCase {
  path: string;
  /** TOML literals that must load. */
  good: string[];
  /** TOML literals that must be refused with ERR_CONFIG_BAD_VALUE naming the key. */
  bad: string[];
  /** Text (env and flag) that must load, and text that must be refused. */
  textGood: string[];
  textBad: string[];
  /** Other lines the key's section needs (the [snapshot] pair, TLS files for `only`). */
  section?: string;
  env?: Record<string, string>;
  argv?: string[];
}

const key39 = kOriginKey.slice(1);
const seconds = (path: string, min: number): ValueCase => ({
  path,
  good: [String(min), String(kSecondsMax)],
  bad: [String(min - 1), String(kSecondsMax + 1), `"${min + 1}"`, `${min + 1}.0`, 'true'],
  textGood: [String(min), String(kSecondsMax), `0${min + 5}`],
  textBad: [String(kSecondsMax + 1), '-1', '1.5', '1e3', ' 5', '', 'ten'],
});

const kCases: ValueCase[] = [
  {
    path: 'server.host',
    good: ['"127.0.0.1"', '"0.0.0.0"', '"::1"', '"localhost"', '"db-1.example.com"'],
    bad: ['""', '"two words"', '"-bad.example"', '"a..b"', '127', 'true', '["127.0.0.1"]'],
    textGood: ['10.1.2.3', '::', 'host.local'],
    textBad: ['', 'bad_host!', 'two words'],
  },
  {
    path: 'server.port',
    good: ['1', '65535'],
    bad: ['0', '65536', '-1', '"2003"', '2003.0', 'true'],
    textGood: ['1', '65535'],
    textBad: ['0', '65536', '-1', '20 03', 'port', ''],
  },
  { path: 'server.noart', good: ['true', 'false'], bad: ['"true"', '1', '"yes"'], textGood: ['true', 'FALSE', '1', '0', 'yes', 'No'], textBad: ['maybe', '2', ''] },
  {
    path: 'server.maxclient',
    good: ['1', '2147483647'],
    bad: ['0', '2147483648', '"50000"', '1.5', '-3'],
    textGood: ['1', '2147483647'],
    textBad: ['0', '2147483648', '-3', 'lots'],
  },
  { path: 'server.mode', good: ['"dev"'], bad: ['"Prod"', '"production"', '""', '1'], textGood: ['dev'], textBad: ['DEV', 'staging', ''] },
  { path: 'server.data_dir', good: ['"d"', '"/var/lib/frostkv"'], bad: ['""', '1', 'false'], textGood: ['d'], textBad: [''] },
  { path: 'bgsave.enabled', good: ['true', 'false'], bad: ['"false"', '0'], textGood: ['no', 'yes'], textBad: ['off', ''] },
  seconds('bgsave.every', 1),
  { ...seconds('snapshot.every', 1), section: 'atmost = 0', env: { SKY_SNAPSHOT_KEEP: '0' }, argv: ['--snapkeep', '0'] },
  {
    path: 'snapshot.atmost',
    good: ['0', '2147483647'],
    bad: ['-1', '2147483648', '"4"', '4.0'],
    textGood: ['0', '2147483647'],
    textBad: ['-1', '2147483648', 'all'],
    section: 'every = 60',
    env: { SKY_SNAPSHOT_DURATION: '60' },
    argv: ['--snapevery', '60'],
  },
  {
    path: 'snapshot.failsafe',
    good: ['true', 'false'],
    bad: ['"true"', '1'],
    textGood: ['true', 'false', '0'],
    textBad: ['sometimes', ''],
    section: 'every = 60\natmost = 0',
  },
  { path: 'ssl.key', good: ['"key.pem"'], bad: ['""', '1'], textGood: ['key.pem'], textBad: [''], section: 'chain = "chain.pem"', env: { SKY_TLS_CERT: 'c.pem' }, argv: ['--sslchain', 'c.pem'] },
  { path: 'ssl.chain', good: ['"chain.pem"'], bad: ['""', 'true'], textGood: ['chain.pem'], textBad: [''], section: 'key = "key.pem"', env: { SKY_TLS_KEY: 'k.pem' }, argv: ['--sslkey', 'k.pem'] },
  {
    path: 'ssl.port',
    good: ['1', '65535'],
    bad: ['0', '65536', '"2004"'],
    textGood: ['1', '65535'],
    textBad: ['0', '65536'],
    section: 'key = "k.pem"\nchain = "c.pem"',
  },
  { path: 'ssl.only', good: ['true', 'false'], bad: ['"true"'], textGood: ['true', 'no'], textBad: ['only'], section: 'key = "k.pem"\nchain = "c.pem"', env: { SKY_TLS_KEY: 'k.pem', SKY_TLS_CERT: 'c.pem' }, argv: ['--sslkey', 'k.pem', '--sslchain', 'c.pem'] },
  { path: 'ssl.passin', good: ['"pass.txt"'], bad: ['""', '5'], textGood: ['pass.txt'], textBad: [''], section: 'key = "k.pem"\nchain = "c.pem"' },
  {
    path: 'auth.origin_key',
    // Skytable 0.7.7's AuthkeyWrapper::try_new: exactly 40 ASCII alphanumerics.
    good: [`"${kOriginKey}"`, `"${'Z9'.repeat(20)}"`],
    bad: [`"${key39}"`, `"${kOriginKey}x"`, `"${key39} "`, `"${'é'.repeat(40)}"`, `"${'~'.repeat(40)}"`, `"${key39}-"`, '""', '40'],
    textGood: [kOriginKey],
    textBad: [key39, `${kOriginKey}x`, `${key39}\t`, `${key39}.`, ''],
  },
  { path: 'resp.enabled', good: ['true', 'false'], bad: ['"on"'], textGood: ['1', '0'], textBad: ['on'] },
  { path: 'resp.host', good: ['"127.0.0.1"', '"::1"'], bad: ['""', '6379'], textGood: ['127.0.0.2'], textBad: [''] },
  { path: 'resp.port', good: ['1', '65535'], bad: ['0', '65536', '"6379"'], textGood: ['6380'], textBad: ['0', '65536'] },
  // The RESP TLS port needs [ssl]'s key and chain.
  { path: 'resp.tls_port', good: ['1', '65535'], bad: ['0', '65536', '"6380"'], textGood: ['6380'], textBad: ['0', '65536'], section: '[ssl]\nkey = "k.pem"\nchain = "c.pem"', env: { SKY_TLS_KEY: 'k.pem', SKY_TLS_CERT: 'c.pem' }, argv: ['--sslkey', 'k.pem', '--sslchain', 'c.pem'] },
  {
    path: 'resp.table',
    good: ['"default:default"', '"_app:users_2"', `"${'k'.repeat(64)}:${'t'.repeat(64)}"`],
    bad: ['"default"', '":default"', '"a:b:c"', '"system:t"', '"1a:b"', '"a:b-c"', `"a:${'t'.repeat(65)}"`, '"a:PRELOAD"', '1'],
    textGood: ['app:kv'],
    textBad: ['kv', 'app:', 'system:kv'],
  },
  {
    path: 'limits.key_max_bytes',
    good: ['65536', '1048576'],
    bad: ['65535', String(kRecordBytesMax + 1), '"65536"', '65536.0'],
    textGood: ['65536'],
    textBad: ['65535', '64KiB'],
  },
  {
    path: 'limits.value_max_bytes',
    good: ['67108864'],
    bad: ['67108863', String(kRecordBytesMax + 1), '"67108864"'],
    textGood: ['67108864'],
    textBad: ['67108863', '64MiB'],
  },
  {
    path: 'limits.request_max_bytes',
    // The default key (1 MiB) and value (64 MiB) limits plus framing.
    good: [String(1048576 + 67108864 + kRequestFramingBytes), String(kRequestMaxBytesMax)],
    bad: [String(1048576 + 67108864 + kRequestFramingBytes - 1), String(kRequestMaxBytesMax + 1), '"134217728"'],
    textGood: [String(kRequestMaxBytesMax)],
    textBad: [String(kRequestMaxBytesMax + 1), String(1048576 + 67108864 + kRequestFramingBytes - 1)],
  },
  { path: 'limits.query_elements_max', good: ['3', '2147483647'], bad: ['2', '2147483648', '"3"'], textGood: ['3'], textBad: ['2'] },
  { path: 'limits.pipeline_queries_max', good: ['1', '2147483647'], bad: ['0', '2147483648'], textGood: ['1'], textBad: ['0'] },
  seconds('limits.idle_timeout_seconds', 0),
  seconds('limits.request_timeout_seconds', 1),
  {
    path: 'limits.request_buffers_max_bytes',
    good: ['1048576', '1099511627776'],
    bad: ['1048575', '1099511627777', '"1GiB"', '1.5'],
    textGood: ['1048576'],
    textBad: ['1048575', '1GiB'],
  },
  { path: 'workers.threads', good: ['0', '256'], bad: ['-1', '257', '"4"', '2.0'], textGood: ['0', '256'], textBad: ['257', 'auto'] },
  { path: 'log.format', good: ['"pretty"', '"json"'], bad: ['"text"', '"JSON"', '1'], textGood: ['json'], textBad: ['text'] },
  {
    path: 'log.level',
    good: ['"fatal"', '"error"', '"warn"', '"info"', '"debug"', '"trace"', '"silent"'],
    bad: ['"verbose"', '"INFO"', '3'],
    textGood: ['debug'],
    textBad: ['warning'],
  },
];

function tomlFor(c: ValueCase, literal: string): string {
  const [section, key] = c.path.split('.') as [string, string];
  return `[${section}]\n${key} = ${literal}\n${c.section ?? ''}\n`;
}

function specFor(path: string) {
  const spec = kKeys.find((s) => s.path === path);
  if (spec === undefined) throw new Error(`no key ${path}`);
  return spec;
}

describe('every key refuses bad values and accepts good ones at its limits', () => {
  it('covers every key that a file, variable or flag can set', () => {
    const covered = new Set(kCases.map((c) => c.path));
    const missing = kKeys.filter((spec) => spec.inFile && !covered.has(spec.path)).map((spec) => spec.path);
    expect(missing).toEqual([]);
  });

  for (const c of kCases) {
    describe(c.path, () => {
      it('accepts good TOML values, at the limits', () => {
        for (const literal of c.good) {
          const loaded = load(dir, { toml: tomlFor(c, literal) });
          expect(loaded.sources.get(c.path), literal).toBe('file');
        }
      });

      it('refuses wrong types and values past the limits in the file, naming the key', () => {
        for (const literal of c.bad) {
          const error = configError(() => load(dir, { toml: tomlFor(c, literal) }));
          expect(error.code, literal).toBe('ERR_CONFIG_BAD_VALUE');
          expect(error.problems, literal).toHaveLength(1);
          expect(error.problems[0]?.keyPath).toBe(c.path);
          expect(error.message).toContain(`bad value for \`${c.path}\``);
          expect(error.message).toContain(': expected ');
        }
      });

      const spec = specFor(c.path);
      if (spec.env !== undefined) {
        const env = spec.env;
        it(`reads ${env} and refuses bad text naming the variable`, () => {
          for (const text of c.textGood) {
            const loaded = load(dir, { env: { ...c.env, [env]: text } });
            expect(loaded.sources.get(c.path), text).toBe('env');
            expect(loaded.origins.get(c.path)).toBe(env);
          }
          for (const text of c.textBad) {
            const error = configError(() => load(dir, { env: { ...c.env, [env]: text } }));
            expect(error.code, text).toBe('ERR_CONFIG_BAD_VALUE');
            expect(error.message, text).toContain(`bad value for \`${c.path}\` (from ${env}): expected `);
          }
        });
      }
      const flag = spec.flag;
      if (flag !== undefined && flag.switchValue === undefined) {
        it(`reads ${flag.long} VALUE and ${flag.long}=VALUE, and refuses bad text naming the flag`, () => {
          for (const text of c.textGood) {
            const spaced = load(dir, { argv: [...(c.argv ?? []), flag.long, text] });
            expect(spaced.sources.get(c.path), text).toBe('flag');
            const joined = load(dir, { argv: [...(c.argv ?? []), `${flag.long}=${text}`] });
            expect(joined.config).toEqual(spaced.config);
          }
          for (const text of c.textBad) {
            const error = configError(() => load(dir, { argv: [...(c.argv ?? []), `${flag.long}=${text}`] }));
            expect(error.code, text).toBe('ERR_CONFIG_BAD_VALUE');
            expect(error.message, text).toContain(`bad value for \`${c.path}\` (from ${flag.long}): expected `);
          }
        });
      }
    });
  }
});

describe('messages', () => {
  it('use the documented style with the value received', () => {
    const error = configError(() => load(dir, { toml: '[snapshot]\nevery = 0\natmost = 4\n' }));
    expect(error.message).toContain('bad value for `snapshot.every`: expected an integer greater than 0');
    expect(error.message).toContain(', got 0');
    const fromFlag = configError(() => load(dir, { argv: ['--snapevery', '0', '--snapkeep', '4'] }));
    expect(fromFlag.message).toContain('bad value for `snapshot.every` (from --snapevery): expected an integer greater than 0');
    const fromEnv = configError(() => load(dir, { env: { SKY_SNAPSHOT_DURATION: '0', SKY_SNAPSHOT_KEEP: '4' } }));
    expect(fromEnv.message).toContain('bad value for `snapshot.every` (from SKY_SNAPSHOT_DURATION): expected an integer greater than 0');
  });

  it('never echo the origin key', () => {
    const secret = `${kOriginKey.slice(0, 39)} `;
    for (const error of [
      configError(() => load(dir, { toml: `[auth]\norigin_key = "${secret}"\n` })),
      configError(() => load(dir, { env: { SKY_AUTH_ORIGIN_KEY: secret } })),
      configError(() => load(dir, { argv: [`--auth-origin-key=${secret}`] })),
    ]) {
      expect(error.code).toBe('ERR_CONFIG_BAD_VALUE');
      expect(error.message).not.toContain(secret.trim());
    }
  });

  it('tell an empty variable from a wrong one', () => {
    const error = configError(() => load(dir, { env: { SKY_SYSTEM_PORT: '' } }));
    expect(error.message).toContain('set but empty');
  });
});

describe('limits that depend on each other', () => {
  it('fit the largest key and value in the largest request (1 GiB): at the limit and one past it', () => {
    const key = 65536;
    const request = kRequestMaxBytesMax;
    const value = request - key - kRequestFramingBytes;
    const atLimit = `[limits]\nkey_max_bytes = ${key}\nvalue_max_bytes = ${value}\nrequest_max_bytes = ${request}\n`;
    expect(load(dir, { toml: atLimit }).config.limits.valueMaxBytes).toBe(value);
    const past = `[limits]\nkey_max_bytes = ${key}\nvalue_max_bytes = ${value + 1}\nrequest_max_bytes = ${request}\n`;
    const error = configError(() => load(dir, { toml: past }));
    expect(error.code).toBe('ERR_CONFIG_BAD_VALUE');
    expect(error.message).toContain('bad value for `limits.request_max_bytes`');
  });

  it('make a request hold the largest key and value plus framing, whichever limits are set', () => {
    const key = 2 * 1024 * 1024;
    const value = 100 * 1024 * 1024;
    const least = key + value + kRequestFramingBytes;
    const env = { SKY_LIMITS_KEY_MAX_BYTES: String(key), SKY_LIMITS_VALUE_MAX_BYTES: String(value) };
    expect(load(dir, { env: { ...env, SKY_LIMITS_REQUEST_MAX_BYTES: String(least) } }).config.limits.requestMaxBytes).toBe(least);
    const error = configError(() => load(dir, { env: { ...env, SKY_LIMITS_REQUEST_MAX_BYTES: String(least - 1) } }));
    expect(error.message).toContain(`bad value for \`limits.request_max_bytes\` (from SKY_LIMITS_REQUEST_MAX_BYTES): expected at least ${least}`);
    // Raising the value limit past the default request limit without raising the request limit is refused.
    const defaults = configError(() => load(dir, { env: { SKY_LIMITS_VALUE_MAX_BYTES: String(200 * 1024 * 1024) } }));
    expect(defaults.message).toContain('bad value for `limits.request_max_bytes` (default)');
  });
});
