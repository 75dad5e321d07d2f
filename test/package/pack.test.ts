/**
 * The published package works for someone who installs it: `npm pack` of this checkout as a
 * fresh clone has it (the files git tracks or would track: no dist/, so the package's own
 * lifecycle scripts must build it; this checkout's dist/ is never touched, since other tests
 * may be running the compiled server from it), installed into an empty project,
 * imported by its package name, used embedded (open, set, get, save, close, reopen), and its
 * `frostkv` bin run (`--version`, and `serve` answering RESP PING and Skyhash HEYA until
 * SIGTERM, which saves and exits 0).
 *
 * The install never needs the registry when `npm ci` has run in this checkout: the probe
 * project gets a lockfile made of this repository's lockfile entries for the runtime
 * dependencies (so it installs exactly the versions the suite tested, by integrity, from npm's
 * cache) and `--prefer-offline` (so a cache that lacks one still fetches it when the registry
 * is reachable).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { kRepoRoot } from '../support/build.js';
import { freePort } from '../support/server.js';
import { SkyClient } from '../support/skyhash.js';
import { tempDir } from '../support/tmp.js';

const run = promisify(execFile);
const kNpm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
/** Pack (a full build), install and the probes take ~15 s here; a loaded CI machine may take longer. */
const kPackTimeoutMs = 240_000;
const kServeReadyTimeoutMs = 30_000;
const kServeExitTimeoutMs = 30_000;

interface PackedFile {
  path: string;
  size: number;
  mode: number;
}

const repoPackage = JSON.parse(readFileSync(join(kRepoRoot, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  license: string;
  dependencies: Record<string, string>;
  bin: Record<string, string>;
  engines: Record<string, string>;
};

/**
 * npm in the probe project must see its own folder, not this repository: drop what a parent
 * `npm test` exports about the running package and lifecycle, keep the user's npm settings.
 */
function probeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_(package|lifecycle)_/i.test(name) || /^npm_config_(local_prefix|prefix|global_prefix)$/i.test(name)) continue;
    env[name] = value;
  }
  return { ...env, NO_COLOR: '1', NO_UPDATE_NOTIFIER: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
}

/**
 * Copy the checkout as a clone of it would look (tracked files plus new files not ignored, as
 * they are in the working tree), with this checkout's node_modules linked in for the build.
 */
function copyCheckout(into: string): void {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: kRepoRoot, maxBuffer: 64 * 1024 * 1024 });
  for (const path of listed.toString('utf8').split('\0')) {
    // Deleted but not yet committed files are listed too; a clone of the working tree lacks them.
    if (path.length === 0 || !existsSync(join(kRepoRoot, path))) continue;
    // Only regular files: a node_modules symlink (a worktree's) is linked below, not copied.
    if (path === 'node_modules' || !lstatSync(join(kRepoRoot, path)).isFile()) continue;
    mkdirSync(dirname(join(into, path)), { recursive: true });
    copyFileSync(join(kRepoRoot, path), join(into, path));
  }
  symlinkSync(join(kRepoRoot, 'node_modules'), join(into, 'node_modules'), 'dir');
}

/** package.json and package-lock.json of a project whose only dependency is the tarball. */
function writeProbeProject(dir: string, tarball: string): void {
  const spec = `file:${tarball}`;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'frostkv-pack-probe', private: true, type: 'module', dependencies: { frostkv: spec } }, null, 2));
  const lock = JSON.parse(readFileSync(join(kRepoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const packages: Record<string, unknown> = {
    '': { name: 'frostkv-pack-probe', dependencies: { frostkv: spec } },
    'node_modules/frostkv': {
      version: repoPackage.version,
      resolved: spec,
      license: repoPackage.license,
      dependencies: repoPackage.dependencies,
      bin: repoPackage.bin,
      engines: repoPackage.engines,
    },
  };
  // The runtime closure: every entry not marked dev-only (they are hoisted the same way here).
  for (const [path, entry] of Object.entries(lock.packages)) if (path !== '' && entry.dev !== true) packages[path] = entry;
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'frostkv-pack-probe', lockfileVersion: 3, requires: true, packages }, null, 2));
}

const kEmbeddedProbe = `
import { open, version } from 'frostkv';
const dataDir = process.argv[2];
const db = await open({ server: { dataDir } });
db.table().set('greeting', 'hello from the tarball');
const before = db.table().getString('greeting');
const saved = await db.save();
await db.close();
const again = await open({ server: { dataDir } });
const after = again.table().getString('greeting');
await again.close();
process.stdout.write(JSON.stringify({ version, before, saved: saved.ok, after }));
`;

/** Compiles only if the package's types resolve through its `exports` and say what the API does. */
const kTypedConsumer = `
import { open, FrostError, type Database, type TableModel } from 'frostkv';
const db: Database = await open({}, { inMemory: true });
const value: string | undefined = db.table().getString('k');
const model: TableModel = db.describeTable('default:default');
// @ts-expect-error: set takes a key and a value
db.table().set('only-a-key');
const error: FrostError | null = null;
console.log(value, model.key, error);
await db.close();
`;

/** Send one RESP2 command and resolve with the first reply line. */
function respCommand(port: number, command: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n')) {
        socket.end();
        resolve(text.slice(0, text.indexOf('\r\n') + 2));
      }
    });
    socket.on('error', reject);
    socket.write(`*${command.length}\r\n${command.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`);
  });
}

describe('the npm package', () => {
  let packed: PackedFile[] = [];
  let project = '';

  beforeAll(async () => {
    const checkout = tempDir('frostkv-checkout-');
    copyCheckout(checkout);
    const packDir = tempDir('frostkv-pack-');
    const { stdout } = await run(kNpm, ['pack', '--json', '--pack-destination', packDir], { cwd: checkout, env: probeEnv(), maxBuffer: 64 * 1024 * 1024 });
    // Lifecycle scripts may print before the JSON; the JSON array is the last thing printed.
    const report = JSON.parse(stdout.slice(stdout.indexOf('\n[') + 1 || stdout.indexOf('['))) as Array<{ filename: string; files: PackedFile[] }>;
    const entry = report[0];
    if (entry === undefined) throw new Error(`npm pack printed no report:\n${stdout}`);
    packed = entry.files;
    project = tempDir('frostkv-probe-');
    writeProbeProject(project, join(packDir, entry.filename));
    await run(kNpm, ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: project, env: probeEnv() });
  }, kPackTimeoutMs);

  it('ships the build, its worker entry, types, LICENSE, and no tests or benches', () => {
    const paths = packed.map((file) => file.path);
    for (const needed of ['LICENSE', 'README.md', 'package.json', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/workers/persist-worker.js']) {
      expect(paths).toContain(needed);
    }
    const unwanted = paths.filter((path) => /^(test|bench|\.ci|dist\/test|dist\/bench)\//.test(path) || path.endsWith('.tsbuildinfo'));
    expect(unwanted).toEqual([]);
    const license = readFileSync(join(project, 'node_modules', 'frostkv', 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License/);
    expect(license).toContain('the frostkv authors');
  });

  it('ships source maps only with the sources they name', () => {
    const root = join(project, 'node_modules', 'frostkv');
    const maps = packed.map((file) => file.path).filter((path) => path.endsWith('.map'));
    for (const path of maps) {
      const map = JSON.parse(readFileSync(join(root, path), 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null>; sourceRoot?: string };
      map.sources.forEach((source, i) => {
        const embedded = map.sourcesContent?.[i];
        const beside = join(root, path, '..', map.sourceRoot ?? '', source);
        if (typeof embedded !== 'string' && !existsSync(beside)) throw new Error(`${path} names ${source}, which the package does not contain`);
      });
    }
  });

  it('imports by package name and opens, writes, saves and reloads a database', async () => {
    writeFileSync(join(project, 'probe.mjs'), kEmbeddedProbe);
    const dataDir = tempDir('frostkv-probe-data-');
    const { stdout } = await run(process.execPath, [join(project, 'probe.mjs'), dataDir], { cwd: project });
    expect(JSON.parse(stdout)).toEqual({ version: repoPackage.version, before: 'hello from the tarball', saved: true, after: 'hello from the tarball' });
    expect(existsSync(join(dataDir, 'ks', 'MANIFEST'))).toBe(true);
  });

  it('types: a TypeScript consumer type-checks against the shipped .d.ts files', async () => {
    writeFileSync(join(project, 'consumer.ts'), kTypedConsumer);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          types: ['node'],
          // The probe installs only runtime dependencies; Node's types come from this checkout.
          typeRoots: [join(kRepoRoot, 'node_modules', '@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = join(kRepoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', join(project, 'tsconfig.json')], { cwd: project }).catch((error: { stdout?: string }) => {
      throw new Error(`the consumer does not type-check against the package:\n${error.stdout ?? String(error)}`);
    });
  });

  it('runs the frostkv bin: --version', async () => {
    const { stdout } = await run(kNpm, ['exec', '--offline', '--', 'frostkv', '--version'], { cwd: project, env: probeEnv() });
    expect(stdout.trim()).toBe(`frostkv ${repoPackage.version}`);
  });

  it('runs the frostkv bin: serve answers PING and HEYA, and SIGTERM saves and exits 0', async () => {
    const [port, respPort] = [await freePort(), await freePort()];
    const dataDir = tempDir('frostkv-probe-serve-');
    // The bin link itself (shebang and exec bit), as a shell would run it.
    const bin = join(project, 'node_modules', '.bin', 'frostkv');
    const child = spawn(bin, ['serve', '--port', String(port), '--resp-port', String(respPort), '--data-dir', dataDir, '--noart'], { cwd: project, env: probeEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', (error) => (output += `spawn failed: ${error.message}\n`));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      const deadline = Date.now() + kServeReadyTimeoutMs;
      while (!output.includes('ready to accept connections')) {
        if (child.exitCode !== null || output.includes('spawn failed') || Date.now() > deadline) throw new Error(`serve did not become ready:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await respCommand(respPort, ['PING'])).toBe('+PONG\r\n');
      const sky = await SkyClient.connect(port);
      expect(await sky.run('HEYA')).toBe('*1\n+4\nHEY!\n');
      expect(await sky.run('SET', 'k', 'v')).toBe('*1\n!1\n0\n');
      sky.socket.destroy();
      child.kill('SIGTERM');
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit after SIGTERM:\n${output}`)), kServeExitTimeoutMs));
      expect(await Promise.race([exited, timeout])).toEqual({ code: 0, signal: null });
      expect(existsSync(join(dataDir, 'ks', 'MANIFEST'))).toBe(true);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
