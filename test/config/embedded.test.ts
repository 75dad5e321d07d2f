/**
 * The embedded entry point validates its configuration with the server's validator: `open()`
 * refuses unknown keys (naming the right spelling), wrong types, out-of-range values and
 * incomplete sections with a ConfigError (a FrostError) whose problems carry a stable code and
 * the key path, before it touches the disk or starts a timer; a valid configuration still opens.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import type { PartialConfig } from '../../src/config/types.js';
import { open } from '../../src/database.js';
import { FrostError } from '../../src/util/errors.js';
import { tempDir } from '../support/tmp.js';
import { TempDir, configError, load } from './support.js';

/** The error `open(config)` rejects with; fails the test if it opens. */
async function refusal(config: unknown, options: { inMemory?: boolean } = {}): Promise<ConfigError> {
  let db;
  try {
    db = await open(config as PartialConfig, options);
  } catch (error) {
    expect(error).toBeInstanceOf(FrostError);
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  await db.close();
  throw new Error(`open() accepted ${JSON.stringify(config)}`);
}

function problem(error: ConfigError, keyPath: string): { code: string; message: string } {
  const found = error.problems.find((p) => p.keyPath === keyPath);
  if (found === undefined) throw new Error(`no problem for ${keyPath} in:\n${error.message}`);
  expect(error.message).toContain(found.message);
  return found;
}

describe('open() with a bad configuration', () => {
  const originalCwd = process.cwd();
  let cwd: string;

  beforeEach(() => {
    cwd = tempDir();
    process.chdir(cwd);
  });

  afterEach(() => {
    process.chdir(originalCwd);
  });

  it('refuses a TOML spelling, a bad port and an unknown section, each by key path, and opens no data directory', async () => {
    const error = await refusal({ server: { data_dir: './mine', port: 'x' }, nosuch: 1 });
    expect(error.code).toBe('ERR_CONFIG_INVALID');
    expect(problem(error, 'server.data_dir')).toMatchObject({ code: 'ERR_CONFIG_UNKNOWN_KEY' });
    expect(problem(error, 'server.data_dir').message).toContain('did you mean `server.dataDir`?');
    expect(problem(error, 'server.port')).toMatchObject({ code: 'ERR_CONFIG_BAD_VALUE' });
    expect(problem(error, 'server.port').message).toContain('expected an integer from 1 to 65535, got "x"');
    expect(problem(error, 'nosuch')).toMatchObject({ code: 'ERR_CONFIG_UNKNOWN_KEY' });
    expect(error.problems).toHaveLength(3);
    // Neither the default data directory nor the misspelled one was created.
    expect(existsSync(join(cwd, 'data'))).toBe(false);
    expect(existsSync(join(cwd, 'mine'))).toBe(false);
  });

  it('refuses bgsave.every of -5, 0, 1.5 and "60" (a negative period made the save timer spin)', async () => {
    for (const every of [-5, 0, 1.5, '60']) {
      const error = await refusal({ bgsave: { every } });
      expect(error.code).toBe('ERR_CONFIG_BAD_VALUE');
      expect(problem(error, 'bgsave.every').message).toMatch(/^bad value for `bgsave\.every`: expected an integer greater than 0 and at most 2147483 \(seconds\), got /);
    }
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it('refuses a snapshot section without atmost, as the file loader refuses [snapshot] without it', async () => {
    const error = await refusal({ snapshot: { enabled: true, every: 60 } });
    const dir = new TempDir();
    try {
      const fromFile = configError(() => load(dir, { toml: '[snapshot]\nevery = 60\n' }));
      expect(error.code).toBe(fromFile.code);
      expect(error.code).toBe('ERR_CONFIG_MISSING');
      expect(error.problems.map((p) => p.keyPath)).toEqual(fromFile.problems.map((p) => p.keyPath));
      expect(problem(error, 'snapshot.atmost').message).toContain('missing `snapshot.atmost`');
    } finally {
      dir.remove();
    }
    // Without `enabled` the section still turns snapshots on, so it still needs both keys.
    expect(problem(await refusal({ snapshot: { atmost: 3 } }), 'snapshot.every').code).toBe('ERR_CONFIG_MISSING');
    // A bad value is reported once, not also as missing.
    const bad = await refusal({ snapshot: { every: -1, atmost: 2 } });
    expect(bad.problems.map((p) => [p.code, p.keyPath])).toEqual([['ERR_CONFIG_BAD_VALUE', 'snapshot.every']]);
    // TLS needs both files, as from the other sources.
    expect(problem(await refusal({ ssl: { key: '/k.pem' } }), 'ssl.chain').code).toBe('ERR_CONFIG_MISSING');
  });

  it('refuses wrong types and unknown values everywhere, including in memory', async () => {
    const cases: Array<[unknown, string, string]> = [
      [{ bgsave: { enabled: 'no' } }, 'bgsave.enabled', 'ERR_CONFIG_BAD_VALUE'],
      [{ log: { level: 'loud' } }, 'log.level', 'ERR_CONFIG_BAD_VALUE'],
      [{ workers: { threads: 9999 } }, 'workers.threads', 'ERR_CONFIG_BAD_VALUE'],
      [{ server: { dataDir: '' } }, 'server.dataDir', 'ERR_CONFIG_BAD_VALUE'],
      [{ server: { dataDir: null } }, 'server.dataDir', 'ERR_CONFIG_BAD_VALUE'],
      [{ limits: { keyMaxBytes: 10 } }, 'limits.keyMaxBytes', 'ERR_CONFIG_BAD_VALUE'],
      [{ server: 'x' }, 'server', 'ERR_CONFIG_BAD_VALUE'],
      [{ snapshots: {} }, 'snapshots', 'ERR_CONFIG_UNKNOWN_KEY'],
      [{ restore: 5 }, 'restore', 'ERR_CONFIG_BAD_VALUE'],
    ];
    for (const [config, keyPath, code] of cases) {
      const error = await refusal(config, { inMemory: true });
      expect(problem(error, keyPath).code, JSON.stringify(config)).toBe(code);
    }
    expect((await refusal('./data')).code).toBe('ERR_CONFIG_BAD_VALUE');
    expect(problem(await refusal({ snapshots: {} }), 'snapshots').message).toContain('did you mean `snapshot`?');
  });

  it('names camelCase keys in its suggestions and in cross-key checks', async () => {
    expect(problem(await refusal({ limits: { key_max_bytes: 65536 } }), 'limits.key_max_bytes').message).toContain(
      "did you mean `limits.keyMaxBytes`? `key_max_bytes` is the TOML file's spelling",
    );
    expect(problem(await refusal({ server: { maxcon: 10 } }), 'server.maxcon').message).toContain('did you mean `server.maxclient`?');
    expect(problem(await refusal({ server: { dataDri: './x' } }), 'server.dataDri').message).toContain('did you mean `server.dataDir`?');
    const tooBig = await refusal({ limits: { keyMaxBytes: 2 ** 30, valueMaxBytes: 2 ** 30 } });
    const fit = problem(tooBig, 'limits.valueMaxBytes');
    expect(fit.code).toBe('ERR_CONFIG_BAD_VALUE');
    expect(fit.message).toContain('bad value for `limits.valueMaxBytes`');
    expect(fit.message).toContain('`limits.keyMaxBytes` = 1073741824');
  });

  it('applies the production rules in prod mode', async () => {
    const error = await refusal({ server: { mode: 'prod' }, bgsave: { enabled: false } }, { inMemory: true });
    expect(error.code).toBe('ERR_CONFIG_PROD');
    expect(error.message).toContain('BGSAVE must be enabled');
  });
});

describe('open() with a good configuration', () => {
  it('opens, with snapshots on when the section has every and atmost', async () => {
    const dataDir = tempDir();
    const db = await open({
      server: { dataDir },
      bgsave: { every: 60 },
      snapshot: { every: 3600, atmost: 2 },
      limits: { keyMaxBytes: 64 * 1024 },
      workers: { threads: 1 },
    });
    try {
      expect(db.config.snapshot).toEqual({ enabled: true, every: 3600, atmost: 2, failsafe: true });
      expect(db.config.bgsave).toEqual({ enabled: true, every: 60 });
      db.table().set('k', 'v');
      expect(db.table().getString('k')).toBe('v');
    } finally {
      await db.close();
    }
    expect(existsSync(join(dataDir, 'ks'))).toBe(true);
  });

  it('takes the whole configuration the server loader returns, and snapshot.enabled false alone', async () => {
    const loaded = loadConfig({ argv: ['--snapevery', '60', '--snapkeep', '0', '--resp-port', '6390'], env: {}, cwd: tempDir() });
    const db = await open(loaded.config, { inMemory: true });
    expect(db.config).toEqual(loaded.config);
    await db.close();
    const nulls = await open({ ssl: { key: null, chain: null, passin: null }, auth: { originKey: null }, restore: null }, { inMemory: true });
    expect(nulls.config.ssl.enabled).toBe(false);
    await nulls.close();
    const off = await open({ snapshot: { enabled: false } }, { inMemory: true });
    expect(off.config.snapshot.enabled).toBe(false);
    await off.close();
    const empty = await open(undefined, { inMemory: true });
    expect(empty.config.server.dataDir).toBe('./data');
    await empty.close();
  });
});
