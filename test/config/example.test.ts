import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { kControlFlags } from '../../src/config/flags.js';
import { kKeys, kSections } from '../../src/config/keys.js';
import { helpText, loadConfig, resolvedDefaults } from '../../src/config/load.js';
import { load, TempDir } from './support.js';

const dir = new TempDir();
afterAll(() => dir.remove());

const kExamplePath = fileURLToPath(new URL('../../frostkv.example.toml', import.meta.url));
const kExample = readFileSync(kExamplePath, 'utf8');

/** The example with its commented-out sections and keys turned on. */
function uncommented(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const match = /^# (\[[a-z]+\]|[a-z_]+ = .*)$/.exec(line);
      return match ? (match[1] as string) : line;
    })
    .join('\n');
}

describe('frostkv.example.toml', () => {
  it('loads cleanly and sets exactly the defaults', () => {
    const loaded = loadConfig({ argv: ['-c', kExamplePath], env: {}, cwd: dir.path });
    expect(loaded.config).toEqual(resolvedDefaults(dir.path));
    expect(loaded.warnings).toEqual([]);
    expect(loaded.configFile).toBe(kExamplePath);
  });

  it('documents every key, in its section, with its variable, flag and default', () => {
    const sections = kExample.split(/^(?:# )?(?=\[[a-z]+\]$)/m);
    for (const spec of kKeys) {
      if (!spec.inFile) continue;
      const [section, key] = spec.path.split('.') as [string, string];
      const body = sections.find((s) => s.startsWith(`[${section}]`));
      expect(body, `section [${section}]`).toBeDefined();
      const text = body as string;
      expect(text, spec.path).toMatch(new RegExp(`^(# )?${key} = `, 'm'));
      if (spec.env !== undefined) expect(text, spec.path).toContain(spec.env);
      if (spec.flag !== undefined) expect(text, spec.path).toContain(spec.flag.long);
      expect(text, spec.path).toMatch(/Default|No default/);
    }
    for (const section of kSections) expect(kExample).toMatch(new RegExp(`^(# )?\\[${section}\\]$`, 'm'));
  });

  it('has commented examples that load too, turning the optional features on', () => {
    const file = dir.file(uncommented(kExample), 'example-on.toml');
    const loaded = loadConfig({ argv: ['-c', file], env: {}, cwd: dir.path });
    expect(loaded.config.snapshot.enabled).toBe(true);
    expect(loaded.config.ssl.enabled).toBe(true);
    expect(loaded.config.auth.originKey).not.toBeNull();
    expect(loaded.config.resp.enabled).toBe(true);
    for (const spec of kKeys) {
      if (spec.inFile) expect(loaded.sources.get(spec.path), spec.path).toBe('file');
    }
  });

  it('is what a Skytable 0.7 style file looks like, `maxcon` included', () => {
    const skytableStyle = [
      '[server]',
      'host = "127.0.0.1"',
      'port = 2003',
      'noart = false',
      'maxcon = 50000',
      'mode = "dev"',
      '[bgsave]',
      'enabled = true',
      'every = 120',
      '[snapshot]',
      'every = 3600',
      'atmost = 4',
      'failsafe = true',
      '[ssl]',
      'key = "/path/to/keyfile.pem"',
      'chain = "/path/to/chain.pem"',
      'port = 2004',
      'only = true',
      'passin = "/path/to/cert/passphrase.txt"',
    ].join('\n');
    const loaded = load(dir, { toml: skytableStyle });
    expect(loaded.config.snapshot).toEqual({ enabled: true, every: 3600, atmost: 4, failsafe: true });
    expect(loaded.config.ssl.only).toBe(true);
  });
});

describe('--help', () => {
  const main = helpText();
  const snapshots = helpText('snapshots');

  it('lists every flag, variable and key with its default', () => {
    for (const spec of kKeys) {
      if (spec.flag !== undefined) {
        expect(main, spec.path).toContain(spec.flag.long);
        if (spec.flag.short !== undefined) expect(main).toContain(`${spec.flag.short}, ${spec.flag.long}`);
      }
      if (spec.env !== undefined) expect(main, spec.path).toContain(spec.env);
      const [section, key] = spec.path.split('.') as [string, string | undefined];
      if (key !== undefined) expect(main, spec.path).toContain(`[${section}] ${key}`);
      expect(main, spec.path).toContain(`default: ${spec.doc.defaultText}`);
    }
    for (const control of kControlFlags) expect(main).toContain(control.long);
  });

  it('explains the sources, the subcommands and the production rules', () => {
    expect(main).toContain('built-in defaults < TOML file (-c FILE) < environment variables < flags');
    expect(main).toContain('frostkv snapshots list|verify|restore');
    expect(main).toContain('Production mode (--mode prod)');
    expect(snapshots).toContain('frostkv snapshots list [--data-dir DIR]');
    expect(snapshots).toContain('frostkv snapshots verify DIR');
    expect(snapshots).toContain('frostkv snapshots restore DIR [--data-dir DIR]');
  });

  it('fits in 100 columns', () => {
    for (const line of [...main.split('\n'), ...snapshots.split('\n')]) expect(line.length, line).toBeLessThanOrEqual(100);
  });
});
