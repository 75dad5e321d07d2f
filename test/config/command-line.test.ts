import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { configError, load, TempDir } from './support.js';

const dir = new TempDir();
afterAll(() => dir.remove());

const run = (argv: string[], env: Record<string, string> = {}) => loadConfig({ argv, env, cwd: dir.path });

describe('commands', () => {
  it('serve by default and with `serve`, flags before or after it', () => {
    expect(run([]).command).toEqual({ kind: 'serve' });
    expect(run(['serve']).command).toEqual({ kind: 'serve' });
    expect(run(['--port', '2100', 'serve']).config.server.port).toBe(2100);
    expect(run(['serve', '--port', '2100']).config.server.port).toBe(2100);
  });

  it('parse the offline snapshot commands, with absolute paths', () => {
    expect(run(['snapshots', 'list']).command).toEqual({ kind: 'snapshots-list', dataDir: join(dir.path, 'data') });
    expect(run(['snapshots', 'list', '--data-dir', 'elsewhere']).command).toEqual({ kind: 'snapshots-list', dataDir: join(dir.path, 'elsewhere') });
    expect(run(['snapshots', 'verify', 'data/snaps/20240101-000000']).command).toEqual({
      kind: 'snapshots-verify',
      dir: join(dir.path, 'data/snaps/20240101-000000'),
    });
    expect(run(['snapshots', 'restore', '/backups/x', '--data-dir=/srv/data']).command).toEqual({
      kind: 'snapshots-restore',
      dir: '/backups/x',
      dataDir: '/srv/data',
    });
  });

  it('take the data dir of the snapshot commands from the environment and the config file too', () => {
    expect(run(['snapshots', 'list'], { SKY_DATA_DIR: '/env/data' }).command).toEqual({ kind: 'snapshots-list', dataDir: '/env/data' });
    const file = dir.file('[server]\ndata_dir = "/file/data"\n');
    expect(run(['snapshots', 'restore', 'x', '-c', file]).command).toEqual({
      kind: 'snapshots-restore',
      dir: join(dir.path, 'x'),
      dataDir: '/file/data',
    });
  });

  it('do not apply prod rules to offline commands', () => {
    expect(run(['snapshots', 'list'], { SKY_DEPLOY_MODE: 'prod', SKY_BGSAVE_ENABLED: 'false' }).command.kind).toBe('snapshots-list');
  });

  it('refuse malformed commands, all at once', () => {
    const cases: [string[], string][] = [
      [['snapshots'], '`frostkv snapshots` needs a subcommand'],
      [['snapshots', 'prune'], '`frostkv snapshots` has no subcommand `prune`'],
      [['snapshots', 'verify'], '`frostkv snapshots verify` needs the snapshot folder'],
      [['snapshots', 'restore'], '`frostkv snapshots restore` needs the snapshot folder'],
      [['snapshots', 'list', 'extra'], 'unexpected argument `extra`'],
      [['snapshots', 'verify', 'a', 'b'], 'unexpected argument `b`'],
      [['snapshots', 'list', '--port', '1'], '`--port` does not apply to `frostkv snapshots list`'],
      [['snapshots', 'verify', 'd', '--data-dir', 'x'], '`--data-dir` does not apply to `frostkv snapshots verify`'],
      [['serve', 'now'], 'unexpected argument `now`'],
      [['srve'], 'unknown command `srve` (did you mean `serve`?)'],
    ];
    for (const [argv, message] of cases) {
      const error = configError(() => run(argv));
      expect(error.message, argv.join(' ')).toContain(message);
      expect(['ERR_CONFIG_USAGE', 'ERR_CONFIG_MISSING'], argv.join(' ')).toContain(error.code);
    }
  });

  it('answer --help and --version even on a broken command line, without reading anything', () => {
    expect(run(['--bogus', '--port', 'x', '-h']).command).toEqual({ kind: 'help', topic: 'main' });
    expect(run(['--help'], { SKY_SYSTEM_PORT: 'bad' }).command).toEqual({ kind: 'help', topic: 'main' });
    expect(run(['help']).command).toEqual({ kind: 'help', topic: 'main' });
    expect(run(['snapshots', '--help']).command).toEqual({ kind: 'help', topic: 'snapshots' });
    expect(run(['help', 'snapshots']).command).toEqual({ kind: 'help', topic: 'snapshots' });
    expect(run(['-c', 'missing.toml', '--version']).command).toEqual({ kind: 'version' });
    expect(run(['-v']).command).toEqual({ kind: 'version' });
    expect(run(['-V']).command).toEqual({ kind: 'version' });
    expect(run(['--help', '--version']).command.kind).toBe('help');
  });
});

describe('flags', () => {
  it('accept --flag=value and --flag value, and the short forms', () => {
    const a = run(['--port=2100', '--host=::1', '-S', '30', '-c', dir.file('')]);
    const b = run(['-p', '2100', '--host', '::1', '--saveduration=30']);
    expect(a.config.server).toEqual(b.config.server);
    expect(a.config.bgsave.every).toBe(30);
    expect(b.origins.get('server.port')).toBe('-p');
  });

  it('refuse unknown flags with a suggestion, flags given twice, and missing values', () => {
    const error = configError(() => run(['--snapkep', '3', '--port', '1', '--port', '2', '--host']));
    expect(error.problems.map((p) => p.message)).toEqual([
      'unknown flag `--snapkep` (did you mean `--snapkeep`?)',
      '`--port` given more than once',
      'flag `--host` needs a value (--host HOST)',
      'unknown command `3`: expected `serve` (the default) or `snapshots`',
    ]);
  });

  it('do not take the next flag as a value', () => {
    const error = configError(() => run(['--data-dir', '--nosave']));
    expect(error.message).toContain('flag `--data-dir` needs a value');
    const short = configError(() => run(['--withconfig', '-p', '2100']));
    expect(short.message).toContain('flag `--withconfig` needs a value (--withconfig FILE)');
  });

  it('refuse skyd\'s -h HOST instead of printing help and exiting', () => {
    const error = configError(() => run(['-h', '0.0.0.0', '-p', '2003']));
    expect(error.code).toBe('ERR_CONFIG_USAGE');
    expect(error.message).toContain('`-h` means --help in frostkv (skyd used it for --host): write `--host 0.0.0.0`');
    expect(run(['-h', 'snapshots']).command).toEqual({ kind: 'help', topic: 'snapshots' });
  });

  it('explain that Skytable 0.7.6\'s protocol switch is not supported', () => {
    expect(configError(() => run(['--protover', '2.0'])).message).toContain("Skytable 0.7.6's protocol switch is not supported");
    expect(configError(() => load(dir, { toml: '[server]\nprotocol = "1.0"\n' })).message).toContain('unknown key `server.protocol`');
    expect(run([], { SKY_PROTOCOL_VERSION: '1.0' }).warnings.join('\n')).toContain('Skyhash 1.x only');
  });

  it('treat everything after -- as operands', () => {
    expect(run(['snapshots', 'verify', '--', '--odd-name']).command).toEqual({ kind: 'snapshots-verify', dir: join(dir.path, '--odd-name') });
  });
});

describe('--restore', () => {
  it('keeps the folder as an absolute path, from -r or --restore', () => {
    const loaded = run(['--restore', 'data/snaps/20240101-000000']);
    expect(loaded.config.restore).toBe(join(dir.path, 'data/snaps/20240101-000000'));
    expect(loaded.sources.get('restore')).toBe('flag');
    expect(run(['-r', '/backups/x']).config.restore).toBe('/backups/x');
    expect(run([]).config.restore).toBeNull();
  });

  it('is not a file key', () => {
    expect(configError(() => load(dir, { toml: 'restore = "x"\n' })).code).toBe('ERR_CONFIG_UNKNOWN_KEY');
  });
});

describe('switches', () => {
  it('--noart, --sslonly and --resp set true; --nosave sets bgsave.enabled false', () => {
    const loaded = run(['--noart', '--sslonly', '--sslkey', 'k', '--sslchain', 'c', '--resp', '--nosave']);
    expect(loaded.config.server.noart).toBe(true);
    expect(loaded.config.ssl.only).toBe(true);
    expect(loaded.config.resp.enabled).toBe(true);
    expect(loaded.config.bgsave.enabled).toBe(false);
    expect(loaded.sources.get('bgsave.enabled')).toBe('flag');
    expect(loaded.origins.get('bgsave.enabled')).toBe('--nosave');
  });

  it('accept =BOOL, where false undoes the switch', () => {
    expect(run(['--nosave=false'], { SKY_BGSAVE_ENABLED: 'false' }).config.bgsave.enabled).toBe(true);
    expect(run(['--nosave=yes']).config.bgsave.enabled).toBe(false);
    expect(run(['--resp=0'], { SKY_RESP_PORT: '6380' }).config.resp.enabled).toBe(false);
    const error = configError(() => run(['--noart=maybe']));
    expect(error.message).toContain('bad value for `server.noart` (from --noart)');
  });

  it('--help and --version take no value', () => {
    expect(configError(() => run(['--help=1'])).message).toContain('`--help` takes no value');
    expect(configError(() => run(['--version=yes'])).message).toContain('`--version` takes no value');
  });
});

describe('--nosave (Skytable 0.7.3+ ignored it)', () => {
  it('disables BGSAVE and warns that a crash loses data since start', () => {
    const loaded = run(['--nosave']);
    expect(loaded.config.bgsave.enabled).toBe(false);
    const warning = loaded.warnings.find((w) => w.startsWith('BGSAVE is disabled'));
    expect(warning).toContain('by --nosave');
    expect(warning).toContain('no final save at shutdown');
    expect(warning).toContain('a crash or restart loses all data written since start');
  });

  it('matches [bgsave] enabled = false and SKY_BGSAVE_ENABLED=false', () => {
    expect(load(dir, { toml: '[bgsave]\nenabled = false\n' }).config.bgsave.enabled).toBe(false);
    expect(run([], { SKY_BGSAVE_ENABLED: 'false' }).config.bgsave.enabled).toBe(false);
  });

  it('warns that a save period does nothing while disabled', () => {
    expect(run(['--nosave', '-S', '10']).warnings.join('\n')).toContain('`bgsave.every` (from -S) has no effect while BGSAVE is disabled');
  });
});

describe('--stop-write-on-fail (Skytable 0.7 ignored it)', () => {
  it('sets snapshot.failsafe', () => {
    const loaded = run(['--snapevery', '60', '--snapkeep', '2', '--stop-write-on-fail', 'false']);
    expect(loaded.config.snapshot).toEqual({ enabled: true, every: 60, atmost: 2, failsafe: false });
    expect(loaded.origins.get('snapshot.failsafe')).toBe('--stop-write-on-fail');
    expect(run(['--snapevery', '60', '--snapkeep', '2', '--stop-write-on-fail=true']).config.snapshot.failsafe).toBe(true);
  });

  it('needs a boolean', () => {
    expect(configError(() => run(['--stop-write-on-fail'])).code).toBe('ERR_CONFIG_MISSING');
    expect(configError(() => run(['--stop-write-on-fail', 'maybe'])).message).toContain(
      'bad value for `snapshot.failsafe` (from --stop-write-on-fail): expected a boolean',
    );
  });

  it('warns when snapshots are off', () => {
    expect(run(['--stop-write-on-fail', 'false']).warnings.join('\n')).toContain('has no effect while snapshots are off');
  });
});

describe('--snapevery and --snapkeep', () => {
  it('turn snapshots on together', () => {
    const loaded = run(['--snapevery', '60', '--snapkeep', '0']);
    expect(loaded.config.snapshot.enabled).toBe(true);
    expect(loaded.sources.get('snapshot.enabled')).toBe('flag');
  });

  it('refuse one without the other', () => {
    const every = configError(() => run(['--snapevery', '60']));
    expect(every.code).toBe('ERR_CONFIG_MISSING');
    expect(every.message).toContain('`snapshot.every` is set (from --snapevery) but `snapshot.atmost` is not');
    const keep = configError(() => run(['--snapkeep', '3']));
    expect(keep.message).toContain('`snapshot.atmost` is set (from --snapkeep) but `snapshot.every` is not');
    expect(configError(() => run([], { SKY_SNAPSHOT_DURATION: '60' })).code).toBe('ERR_CONFIG_MISSING');
  });

  it('may override one of a pair another source set', () => {
    const loaded = load(dir, { toml: '[snapshot]\nevery = 3600\natmost = 4\n', argv: ['--snapevery', '60'] });
    expect(loaded.config.snapshot).toEqual({ enabled: true, every: 60, atmost: 4, failsafe: true });
    expect(loaded.sources.get('snapshot.enabled')).toBe('flag');
    expect(run(['--snapkeep', '1'], { SKY_SNAPSHOT_DURATION: '30' }).config.snapshot.enabled).toBe(true);
  });
});

describe('RESP flags', () => {
  it('--resp-port turns RESP on', () => {
    const loaded = run(['--resp-port', '6380']);
    expect(loaded.config.resp).toEqual({ enabled: true, host: '127.0.0.1', port: 6380, tlsPort: null, table: 'default:default' });
    expect(loaded.origins.get('resp.enabled')).toBe('--resp-port');
  });

  it('RESP variables turn RESP on unless SKY_RESP_ENABLED says otherwise', () => {
    expect(run([], { SKY_RESP_PORT: '6380' }).config.resp.enabled).toBe(true);
    expect(run([], { SKY_RESP_TABLE: 'a:b', SKY_RESP_ENABLED: 'false' }).config.resp.enabled).toBe(false);
  });

  it('a later source that turns RESP on wins over an earlier one that turned it off', () => {
    expect(load(dir, { toml: '[resp]\nenabled = false\n', argv: ['--resp-port', '6390'] }).config.resp.enabled).toBe(true);
  });
});
