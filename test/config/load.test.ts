import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kKeys } from '../../src/config/keys.js';
import { describeNonDefaults, kProdRules, resolvedDefaults } from '../../src/config/load.js';
import { parseOpenFilesLimit } from '../../src/config/rlimit.js';
import { withDefaults } from '../../src/config/types.js';
import { configError, kOriginKey, load, TempDir } from './support.js';

const dir = new TempDir();
afterAll(() => dir.remove());

interface PrecedenceCase {
  path: string;
  /** TOML line for the key's section (the key itself), env text, flag text, and the expected values. */
  file: string;
  env: string;
  flag?: string;
  expect: [unknown, unknown, unknown?];
  /** Other lines the section needs. */
  section?: string;
  /** Other sections the file needs. */
  extra?: string;
}

const p = (rel: string) => join(dir.path, rel);
const key2 = kOriginKey.replace('a', 'Z');
const key3 = kOriginKey.replace('b', 'Y');

const kPrecedence: PrecedenceCase[] = [
  { path: 'server.host', file: '"10.0.0.1"', env: '10.0.0.2', flag: '10.0.0.3', expect: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] },
  { path: 'server.port', file: '3001', env: '3002', flag: '3003', expect: [3001, 3002, 3003] },
  { path: 'server.noart', file: 'false', env: 'true', expect: [false, true] },
  { path: 'server.maxclient', file: '10', env: '20', flag: '30', expect: [10, 20, 30] },
  // A prod file needs TLS to pass the production rules.
  { path: 'server.mode', file: '"prod"', env: 'dev', flag: 'dev', expect: ['prod', 'dev', 'dev'], extra: '[ssl]\nkey = "k"\nchain = "c"' },
  { path: 'server.data_dir', file: '"a"', env: 'b', flag: 'c', expect: [p('a'), p('b'), p('c')] },
  { path: 'bgsave.enabled', file: 'false', env: 'true', expect: [false, true] },
  { path: 'bgsave.every', file: '10', env: '20', flag: '30', expect: [10, 20, 30] },
  { path: 'snapshot.every', file: '10', env: '20', flag: '30', expect: [10, 20, 30], section: 'atmost = 1' },
  { path: 'snapshot.atmost', file: '1', env: '2', flag: '3', expect: [1, 2, 3], section: 'every = 60' },
  { path: 'snapshot.failsafe', file: 'true', env: 'false', flag: 'true', expect: [true, false, true], section: 'every = 60\natmost = 1' },
  { path: 'ssl.key', file: '"k1"', env: 'k2', flag: 'k3', expect: [p('k1'), p('k2'), p('k3')], section: 'chain = "c"' },
  { path: 'ssl.chain', file: '"c1"', env: 'c2', flag: 'c3', expect: [p('c1'), p('c2'), p('c3')], section: 'key = "k"' },
  { path: 'ssl.port', file: '3101', env: '3102', flag: '3103', expect: [3101, 3102, 3103], section: 'key = "k"\nchain = "c"' },
  { path: 'ssl.only', file: 'true', env: 'false', expect: [true, false], section: 'key = "k"\nchain = "c"' },
  { path: 'ssl.passin', file: '"p1"', env: 'p2', flag: 'p3', expect: [p('p1'), p('p2'), p('p3')], section: 'key = "k"\nchain = "c"' },
  { path: 'auth.origin_key', file: `"${kOriginKey}"`, env: key2, flag: key3, expect: [kOriginKey, key2, key3] },
  { path: 'resp.enabled', file: 'true', env: 'false', expect: [true, false] },
  { path: 'resp.host', file: '"127.0.0.2"', env: '127.0.0.3', flag: '127.0.0.4', expect: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] },
  { path: 'resp.port', file: '6001', env: '6002', flag: '6003', expect: [6001, 6002, 6003] },
  { path: 'resp.tls_port', file: '7001', env: '7002', flag: '7003', expect: [7001, 7002, 7003], extra: '[ssl]\nkey = "k"\nchain = "c"' },
  { path: 'resp.table', file: '"a:one"', env: 'a:two', flag: 'a:three', expect: ['a:one', 'a:two', 'a:three'] },
  { path: 'limits.key_max_bytes', file: '70000', env: '80000', expect: [70000, 80000] },
  { path: 'limits.value_max_bytes', file: '67108865', env: '67108866', expect: [67108865, 67108866] },
  { path: 'limits.request_max_bytes', file: '200000000', env: '300000000', expect: [200000000, 300000000] },
  { path: 'limits.query_elements_max', file: '10', env: '20', expect: [10, 20] },
  { path: 'limits.pipeline_queries_max', file: '10', env: '20', expect: [10, 20] },
  { path: 'limits.idle_timeout_seconds', file: '10', env: '20', expect: [10, 20] },
  { path: 'limits.request_timeout_seconds', file: '10', env: '20', expect: [10, 20] },
  { path: 'limits.request_buffers_max_bytes', file: '2097152', env: '4194304', expect: [2097152, 4194304] },
  { path: 'workers.threads', file: '1', env: '2', flag: '3', expect: [1, 2, 3] },
  { path: 'log.format', file: '"json"', env: 'pretty', flag: 'json', expect: ['json', 'pretty', 'json'] },
  { path: 'log.level', file: '"warn"', env: 'error', flag: 'debug', expect: ['warn', 'error', 'debug'] },
];

function valueOf(config: Record<string, unknown>, target: readonly string[]): unknown {
  let value: unknown = config;
  for (const part of target) value = (value as Record<string, unknown>)[part];
  return value;
}

describe('precedence: defaults < file < environment < flags, per key', () => {
  it('covers every key a variable can set', () => {
    const covered = new Set(kPrecedence.map((c) => c.path));
    expect(kKeys.filter((s) => s.env !== undefined && !covered.has(s.path)).map((s) => s.path)).toEqual([]);
  });

  for (const c of kPrecedence) {
    const spec = kKeys.find((s) => s.path === c.path);
    if (spec?.env === undefined) throw new Error(`no variable for ${c.path}`);
    const env = spec.env;
    const [section, key] = c.path.split('.') as [string, string];
    const toml = `[${section}]\n${key} = ${c.file}\n${c.section ?? ''}\n${c.extra ?? ''}\n`;
    it(`${c.path}: ${env}${spec.flag !== undefined && c.flag !== undefined ? ` and ${spec.flag.long}` : ''}`, () => {
      const fromFile = load(dir, { toml });
      expect(valueOf(fromFile.config as unknown as Record<string, unknown>, spec.target)).toEqual(c.expect[0]);
      expect(fromFile.sources.get(c.path)).toBe('file');

      const fromEnv = load(dir, { toml, env: { [env]: c.env } });
      expect(valueOf(fromEnv.config as unknown as Record<string, unknown>, spec.target)).toEqual(c.expect[1]);
      expect(fromEnv.sources.get(c.path)).toBe('env');
      expect(fromEnv.origins.get(c.path)).toBe(env);

      if (c.flag !== undefined && spec.flag !== undefined) {
        const fromFlag = load(dir, { toml, env: { [env]: c.env }, argv: [spec.flag.long, c.flag] });
        expect(valueOf(fromFlag.config as unknown as Record<string, unknown>, spec.target)).toEqual(c.expect[2]);
        expect(fromFlag.sources.get(c.path)).toBe('flag');
        expect(fromFlag.origins.get(c.path)).toBe(spec.flag.long);
      }
    });
  }

  it('switch flags win over the environment and the file', () => {
    const toml = '[server]\nnoart = false\n[bgsave]\nenabled = true\n[resp]\nenabled = false\n';
    const env = { SKY_SYSTEM_NOART: 'false', SKY_BGSAVE_ENABLED: 'true', SKY_RESP_ENABLED: 'false', SKY_TLS_ONLY: 'false' };
    const loaded = load(dir, { toml, env, argv: ['--noart', '--nosave', '--resp', '--sslonly', '-k', 'k', '-z', 'c'] });
    expect(loaded.config.server.noart).toBe(true);
    expect(loaded.config.bgsave.enabled).toBe(false);
    expect(loaded.config.resp.enabled).toBe(true);
    expect(loaded.config.ssl.only).toBe(true);
    for (const path of ['server.noart', 'bgsave.enabled', 'resp.enabled', 'ssl.only']) expect(loaded.sources.get(path), path).toBe('flag');
  });

  it('leaves every key it was not given at its default, with source default', () => {
    const loaded = load(dir, { toml: '[server]\nport = 2100\n' });
    expect(loaded.config).toEqual({ ...resolvedDefaults(dir.path), server: { ...resolvedDefaults(dir.path).server, port: 2100 } });
    const nonDefault = [...loaded.sources].filter(([, source]) => source !== 'default').map(([path]) => path);
    expect(nonDefault).toEqual(['server.port']);
    expect(loaded.sources.get('snapshot.enabled')).toBe('default');
  });

  it('with no file, variables or flags, returns the defaults (paths made absolute)', () => {
    const loaded = load(dir, {});
    expect(loaded.config).toEqual(resolvedDefaults(dir.path));
    expect(loaded.configFile).toBeNull();
    expect(loaded.config.server.dataDir).toBe(join(dir.path, 'data'));
    const { server, ...rest } = loaded.config;
    const { server: defaultServer, ...defaultRest } = withDefaults();
    expect(rest).toEqual(defaultRest);
    expect({ ...server, dataDir: './data' }).toEqual(defaultServer);
  });
});

const kProdReady = {
  argv: ['--mode', 'prod', '--sslkey', '/etc/frostkv/key.pem', '--sslchain', '/etc/frostkv/chain.pem'],
  openFilesLimit: 1_048_576,
};

describe('prod mode', () => {
  it('starts when every production rule holds', () => {
    const loaded = load(dir, kProdReady);
    expect(loaded.config.server.mode).toBe('prod');
    const withEverything = load(dir, {
      ...kProdReady,
      toml: `[snapshot]\nevery = 60\natmost = 5\nfailsafe = true\n[ssl]\nonly = true\n[auth]\norigin_key = "${kOriginKey}"\n[resp]\nhost = "127.0.0.1"\n`,
    });
    expect(withEverything.config.snapshot.enabled).toBe(true);
  });

  it('refuses to start and lists every violated rule', () => {
    const error = configError(() =>
      load(dir, {
        argv: ['--mode', 'prod', '--nosave', '--snapevery', '60', '--snapkeep', '1', '--stop-write-on-fail', 'false', '--resp-host', '0.0.0.0'],
        env: { SKY_AUTH_ORIGIN_KEY: kOriginKey, SKY_SYSTEM_MAXCON: '5000' },
        openFilesLimit: 1024,
      }),
    );
    expect(error.code).toBe('ERR_CONFIG_PROD');
    expect(error.message.split('\n')[0]).toBe('refusing to start: `server.mode` is prod (from --mode) and these production rules do not hold:');
    const messages = error.problems.map((problem) => problem.message);
    expect(messages).toHaveLength(5);
    expect(messages[0]).toBe('BGSAVE must be enabled: `bgsave.enabled` is false (from --nosave)');
    expect(messages[1]).toBe('snapshots must be failsafe: `snapshot.failsafe` is false (from --stop-write-on-fail)');
    expect(messages[2]).toContain('TLS must be configured in prod mode');
    expect(messages[2]).toContain('auth is on: origin key from SKY_AUTH_ORIGIN_KEY');
    expect(messages[3]).toContain('`server.maxclient` = 5000 (from SKY_SYSTEM_MAXCON) exceeds this process\'s open-files limit of 1024');
    expect(messages[4]).toContain('auth is on, and the plain RESP listener');
    expect(error.message).not.toContain(kOriginKey);
  });

  it('has one documented rule per kind of violation', () => {
    expect(kProdRules).toHaveLength(6);
  });

  it('checks maxclient against the open-files limit at the limit and one past it, and skips the check when the limit is unknown', () => {
    expect(load(dir, { ...kProdReady, argv: [...kProdReady.argv, '--maxcon', '1024'], openFilesLimit: 1024 }).config.server.maxclient).toBe(1024);
    const error = configError(() => load(dir, { ...kProdReady, argv: [...kProdReady.argv, '--maxcon', '1025'], openFilesLimit: 1024 }));
    expect(error.code).toBe('ERR_CONFIG_PROD');
    expect(error.problems).toHaveLength(1);
    expect(load(dir, { ...kProdReady, openFilesLimit: null }).config.server.maxclient).toBe(50_000);
  });

  it('needs TLS multi-socket or TLS-only, as Skytable 0.7 does, and TLS-only when auth is on', () => {
    const plain = configError(() => load(dir, { argv: ['--mode', 'prod'], openFilesLimit: 1_048_576 }));
    expect(plain.problems.map((problem) => problem.message)).toEqual([expect.stringContaining('TLS must be configured in prod mode: set `ssl.key` and `ssl.chain`')]);
    expect(load(dir, { ...kProdReady, argv: [...kProdReady.argv, '--sslonly'] }).config.ssl.only).toBe(true);
    const noAuthTls = configError(() => load(dir, { argv: ['--mode', 'prod'], env: { SKY_AUTH_ORIGIN_KEY: kOriginKey }, openFilesLimit: 1_048_576 }));
    expect(noAuthTls.problems.map((problem) => problem.message)).toEqual([expect.stringContaining('TLS must be configured in prod mode (auth is on')]);
    const multi = configError(() => load(dir, { ...kProdReady, env: { SKY_AUTH_ORIGIN_KEY: kOriginKey } }));
    expect(multi.problems.map((problem) => problem.message)).toEqual([expect.stringContaining('Skyhash must be TLS-only in prod mode when auth is on (origin key from SKY_AUTH_ORIGIN_KEY): `ssl.only` is false (default)')]);
    expect(load(dir, { ...kProdReady, env: { SKY_AUTH_ORIGIN_KEY: kOriginKey, SKY_TLS_ONLY: 'true' } }).config.ssl.only).toBe(true);
  });

  it('does not require failsafe when snapshots are off', () => {
    expect(load(dir, { ...kProdReady, argv: [...kProdReady.argv, '--stop-write-on-fail', 'false'] }).config.snapshot.failsafe).toBe(false);
  });

  it('allows RESP on a loopback address with auth on, and anywhere without auth', () => {
    expect(load(dir, { ...kProdReady, env: { SKY_AUTH_ORIGIN_KEY: kOriginKey }, argv: [...kProdReady.argv, '--sslonly', '--resp', '--resp-tls-port', '6380'] }).config.resp.tlsPort).toBe(6380);
    expect(load(dir, { ...kProdReady, argv: [...kProdReady.argv, '--resp-host', '0.0.0.0'] }).config.resp.host).toBe('0.0.0.0');
  });

  it('reports invalid values before production rules', () => {
    const error = configError(() => load(dir, { argv: ['--mode', 'prod', '--nosave', '--port', '0'] }));
    expect(error.code).toBe('ERR_CONFIG_BAD_VALUE');
  });
});

describe('provenance and warnings', () => {
  it('describes every non-default value with where it came from, hiding the origin key', () => {
    const loaded = load(dir, {
      toml: '[server]\nport = 2003\nmaxcon = 77\n[resp]\n',
      env: { SKY_AUTH_ORIGIN_KEY: kOriginKey, SKY_DATA_DIR: 'state' },
      argv: ['--snapevery', '60', '--snapkeep', '4', '-S', '30'],
    });
    const file = loaded.configFile as string;
    expect(describeNonDefaults(loaded)).toEqual([
      `server.maxclient = 77 (from ${file})`,
      `server.data_dir = ${JSON.stringify(join(dir.path, 'state'))} (from SKY_DATA_DIR)`,
      'bgsave.every = 30 (from -S)',
      'snapshot.enabled = true (from --snapevery)',
      'snapshot.every = 60 (from --snapevery)',
      'snapshot.atmost = 4 (from --snapkeep)',
      'auth.origin_key = "<redacted>" (from SKY_AUTH_ORIGIN_KEY)',
      `resp.enabled = true (from ${file})`,
    ]);
  });

  it('describes nothing for the defaults', () => {
    expect(describeNonDefaults(load(dir, {}))).toEqual([]);
  });

  it('warns about exposure, secrets on the command line and unknown SKY_ variables', () => {
    const loaded = load(dir, {
      argv: ['--host', '0.0.0.0', '--resp-host', '0.0.0.0'],
      env: { SKY_SYSTEM_PROT: '1', SKY_SNAPSHOT_KEEP: '2', SKY_SNAPSHOT_DURATION: '60', PATH: '/bin' },
    });
    const text = loaded.warnings.join('\n');
    expect(text).toContain('unknown environment variable SKY_SYSTEM_PROT is ignored (did you mean SKY_SYSTEM_PORT?)');
    expect(text).toContain('Skyhash listens on 0.0.0.0 without auth');
    expect(text).toContain('RESP listens on 0.0.0.0:6379 without auth');
    const secret = load(dir, { argv: ['--auth-origin-key', kOriginKey] });
    expect(secret.warnings.join('\n')).toContain('--auth-origin-key shows the origin key');
    expect(secret.warnings.join('\n')).toContain('auth is on but TLS is off');
    expect(secret.warnings.join('\n')).not.toContain(kOriginKey);
  });

  it('gives no warnings for the defaults', () => {
    expect(load(dir, {}).warnings).toEqual([]);
  });
});

describe('open-files limit', () => {
  it('reads the soft limit from /proc/self/limits text', () => {
    const text = [
      'Limit                     Soft Limit           Hard Limit           Units',
      'Max processes             127431               127431               processes',
      'Max open files            1024                 524288               files',
    ].join('\n');
    expect(parseOpenFilesLimit(text)).toBe(1024);
    expect(parseOpenFilesLimit(text.replace('1024 ', 'unlimited'))).toBeNull();
    expect(parseOpenFilesLimit('nothing here')).toBeNull();
  });
});
