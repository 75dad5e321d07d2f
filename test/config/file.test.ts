import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { configError, kOriginKey, load, TempDir } from './support.js';

const dir = new TempDir();
afterAll(() => dir.remove());

describe('the TOML file', () => {
  it('loads Skytable 0.7 keys and frostkv additions, resolving paths against the working directory', () => {
    const loaded = load(dir, {
      toml: [
        '[server]',
        'host = "0.0.0.0"',
        'port = 2010',
        'noart = true',
        'maxclient = 100',
        'mode = "dev"',
        'data_dir = "state"',
        '[bgsave]',
        'enabled = true',
        'every = 30',
        '[snapshot]',
        'every = 600',
        'atmost = 3',
        'failsafe = false',
        '[ssl]',
        'key = "tls/key.pem"',
        'chain = "/etc/chain.pem"',
        'port = 2011',
        'only = true',
        'passin = "tls/pass"',
        '[auth]',
        `origin_key = "${kOriginKey}"`,
        '[resp]',
        'port = 6390',
        'table = "app:kv"',
      ].join('\n'),
    });
    const { config } = loaded;
    expect(config.server).toEqual({ host: '0.0.0.0', port: 2010, noart: true, maxclient: 100, mode: 'dev', dataDir: join(dir.path, 'state') });
    expect(config.bgsave).toEqual({ enabled: true, every: 30 });
    expect(config.snapshot).toEqual({ enabled: true, every: 600, atmost: 3, failsafe: false });
    expect(config.ssl).toEqual({
      enabled: true,
      key: join(dir.path, 'tls/key.pem'),
      chain: '/etc/chain.pem',
      port: 2011,
      only: true,
      passin: join(dir.path, 'tls/pass'),
    });
    expect(config.auth.originKey).toBe(kOriginKey);
    expect(config.resp).toEqual({ enabled: true, host: '127.0.0.1', port: 6390, tlsPort: null, table: 'app:kv' });
    expect(loaded.configFile).toMatch(/config-\d+\.toml$/);
    expect(loaded.sources.get('snapshot.enabled')).toBe('file');
    expect(loaded.sources.get('resp.enabled')).toBe('file');
  });

  it('names the file, line and column of a syntax error', () => {
    const file = dir.file('[server]\nport = 2003\nhost = \n');
    const error = configError(() => loadConfig({ argv: ['-c', file], env: {}, cwd: dir.path }));
    expect(error.code).toBe('ERR_CONFIG_SYNTAX');
    expect(error.message).toContain(`syntax error in config file \`${file}\` at line 3, column 8`);
  });

  it('refuses a table defined twice as a syntax error', () => {
    const error = configError(() => load(dir, { toml: '[server]\nport = 1\n[server]\nhost = "::1"\n' }));
    expect(error.code).toBe('ERR_CONFIG_SYNTAX');
    expect(error.message).toContain('at line 3');
  });

  it('reports a file it cannot read', () => {
    const missing = join(dir.path, 'nope.toml');
    const error = configError(() => loadConfig({ argv: ['--withconfig', 'nope.toml'], env: {}, cwd: dir.path }));
    expect(error.code).toBe('ERR_CONFIG_FILE');
    expect(error.message).toContain(`cannot read config file \`${missing}\``);
    expect(error.message).toContain('ENOENT');
  });

  it('refuses unknown sections and keys, naming the key path and suggesting the near miss', () => {
    const error = configError(() =>
      load(dir, { toml: '[server]\nprot = 2003\nprotocol = "1.0"\n[snapshots]\nevery = 1\n[bgsave]\nenable = true\n[ssl.extra]\n' }),
    );
    expect(error.code).toBe('ERR_CONFIG_UNKNOWN_KEY');
    const paths = error.problems.map((p) => p.keyPath);
    expect(paths).toEqual(['server.prot', 'server.protocol', 'snapshots', 'bgsave.enable', 'ssl.extra']);
    expect(error.message).toContain('unknown key `server.prot`');
    expect(error.message).toContain('(did you mean `server.port`?)');
    expect(error.message).toContain('unknown section `[snapshots]`');
    expect(error.message).toContain('(did you mean `[snapshot]`?)');
    expect(error.message).toContain('unknown key `bgsave.enable`');
    expect(error.message).toContain('(did you mean `bgsave.enabled`?)');
  });

  it('refuses keys outside any section and sections that are not tables', () => {
    const error = configError(() => load(dir, { toml: 'port = 2003\nlog = "json"\n' }));
    expect(error.code).toBe('ERR_CONFIG_INVALID');
    expect(error.problems.map((p) => p.code)).toEqual(['ERR_CONFIG_UNKNOWN_KEY', 'ERR_CONFIG_BAD_VALUE']);
    expect(error.message).toContain('unknown key `port`');
    expect(error.message).toContain('(did you mean `server.port`?)');
    expect(error.message).toContain('bad value for `log`: expected a section `[log]`');
    const arrayOfTables = configError(() => load(dir, { toml: '[[server]]\nport = 1\n' }));
    expect(arrayOfTables.code).toBe('ERR_CONFIG_BAD_VALUE');
  });

  it('accepts empty sections', () => {
    expect(load(dir, { toml: '[server]\n[bgsave]\n[limits]\n[workers]\n[log]\n' }).config.server.port).toBe(2003);
  });

  it('collects every problem of the file, the environment and the flags in one error', () => {
    const error = configError(() =>
      load(dir, {
        toml: '[server]\nport = 0\nhots = "x"\n[snapshot]\nevery = 5\n',
        env: { SKY_BGSAVE_DURATION: 'soon' },
        argv: ['--workers', '9999', '--bogus'],
      }),
    );
    expect(error.code).toBe('ERR_CONFIG_INVALID');
    expect(error.problems.map((p) => p.code)).toEqual([
      'ERR_CONFIG_BAD_VALUE',
      'ERR_CONFIG_UNKNOWN_KEY',
      'ERR_CONFIG_MISSING',
      'ERR_CONFIG_BAD_VALUE',
      'ERR_CONFIG_BAD_VALUE',
      'ERR_CONFIG_USAGE',
    ]);
    const lines = error.message.split('\n');
    expect(lines[0]).toMatch(/^invalid configuration \(config file `.*\.toml`\):$/);
    expect(lines).toHaveLength(1 + error.problems.length);
  });
});

describe('[server] maxcon, the name Skytable documented and ignored', () => {
  it('is accepted as maxclient', () => {
    const loaded = load(dir, { toml: '[server]\nmaxcon = 123\n' });
    expect(loaded.config.server.maxclient).toBe(123);
    expect(loaded.sources.get('server.maxclient')).toBe('file');
  });

  it('is validated like maxclient', () => {
    const error = configError(() => load(dir, { toml: '[server]\nmaxcon = 0\n' }));
    expect(error.message).toContain('bad value for `server.maxclient`');
  });

  it('conflicts with maxclient', () => {
    const error = configError(() => load(dir, { toml: '[server]\nmaxcon = 10\nmaxclient = 10\n' }));
    expect(error.code).toBe('ERR_CONFIG_CONFLICT');
    expect(error.message).toContain('conflicting keys `server.maxcon` and `server.maxclient`');
  });
});

describe('[snapshot]', () => {
  it('turns snapshots on with both every and atmost; failsafe defaults to true', () => {
    const { config } = load(dir, { toml: '[snapshot]\nevery = 3600\natmost = 0\n' });
    expect(config.snapshot).toEqual({ enabled: true, every: 3600, atmost: 0, failsafe: true });
  });

  it('leaves snapshots off without the section', () => {
    expect(load(dir, { toml: '[server]\n' }).config.snapshot.enabled).toBe(false);
  });

  it('needs both every and atmost when present', () => {
    for (const [body, missing] of [
      ['every = 60', ['snapshot.atmost']],
      ['atmost = 4', ['snapshot.every']],
      ['failsafe = true', ['snapshot.every', 'snapshot.atmost']],
      ['', ['snapshot.every', 'snapshot.atmost']],
    ] as const) {
      const error = configError(() => load(dir, { toml: `[snapshot]\n${body}\n` }));
      expect(error.code, body).toBe('ERR_CONFIG_MISSING');
      expect(error.problems, body).toHaveLength(1);
      for (const path of missing) expect(error.message, body).toContain(`\`${path}\``);
    }
  });
});

describe('[resp]', () => {
  it('turns RESP on by being present', () => {
    const loaded = load(dir, { toml: '[resp]\n' });
    expect(loaded.config.resp.enabled).toBe(true);
    expect(loaded.sources.get('resp.enabled')).toBe('file');
  });

  it('stays off when it says enabled = false', () => {
    expect(load(dir, { toml: '[resp]\nenabled = false\nport = 6380\n' }).config.resp.enabled).toBe(false);
  });
});

describe('[ssl]', () => {
  it('needs both key and chain', () => {
    const error = configError(() => load(dir, { toml: '[ssl]\nkey = "k.pem"\nport = 2004\n' }));
    expect(error.code).toBe('ERR_CONFIG_MISSING');
    expect(error.message).toContain('`ssl.key` is set');
    expect(error.message).toContain('`ssl.chain` is not');
  });

  it('refuses only = true without TLS files (there would be no listener)', () => {
    const error = configError(() => load(dir, { toml: '[ssl]\nonly = true\n' }));
    expect(error.code).toBe('ERR_CONFIG_MISSING');
    expect(error.message).toContain('`ssl.only` is true');
  });

  it('warns about settings that do nothing while TLS is off', () => {
    const loaded = load(dir, { toml: '[ssl]\nport = 2100\npassin = "p"\n' });
    expect(loaded.config.ssl.enabled).toBe(false);
    expect(loaded.warnings.join('\n')).toContain('`ssl.port`');
    expect(loaded.warnings.join('\n')).toContain('`ssl.passin`');
  });
});

describe('listeners', () => {
  it('refuse two listeners on one port and address', () => {
    const error = configError(() => load(dir, { toml: '[resp]\nport = 2003\n' }));
    expect(error.code).toBe('ERR_CONFIG_CONFLICT');
    expect(error.message).toContain('`resp.port` = 2003');
    expect(error.message).toContain('collides with `server.port` = 2003 (default)');
  });

  it('allow one port on two distinct addresses, and the plain port again when TLS is the only listener', () => {
    expect(load(dir, { toml: '[resp]\nhost = "127.0.0.2"\nport = 2003\n' }).config.resp.port).toBe(2003);
    const tlsOnly = '[ssl]\nkey = "k"\nchain = "c"\nonly = true\nport = 2004\n[resp]\nport = 2003\n';
    expect(load(dir, { toml: tlsOnly }).config.ssl.only).toBe(true);
  });

  it('treat a wildcard address as overlapping every address', () => {
    const error = configError(() => load(dir, { toml: '[server]\nhost = "0.0.0.0"\n[ssl]\nkey = "k"\nchain = "c"\nport = 2003\n' }));
    expect(error.code).toBe('ERR_CONFIG_CONFLICT');
  });
});
