/**
 * Runs Redis 7.0.15's own Tcl test suite (fetched by you, never shipped here) against frostkv's
 * RESP port and, as the baseline, against a real `redis-server`, one suite file at a time, and
 * reports how many of the tests Redis passes frostkv passes too.
 *
 *   npm run build   # or pass --frostkv-entry <compiled src/cli/main.js>
 *   npx tsx bench/redis-suite.ts --suite /path/to/redis-7.0.15 [--files unit/keyspace,unit/scan]
 *       [--frostkv-port N] [--out DIR] [--file-timeout-ms N]
 *
 * Guarantees:
 * - stdout carries only JSON lines: one per suite file
 *   ({file, redisPassed, frostkvPassed, frostkvPassedOfRedisPassed, ratio, failures, ...}) and
 *   one summary line last; human notes go to stderr.
 * - Every file runs on a fresh redis-server (`--save '' --appendonly no`) and, unless
 *   --frostkv-port names a server you run yourself, a fresh frostkv (compiled build, new temp
 *   data directory, RESP on a free port, --nosave). A frostkv that dies during a file is
 *   reported (`frostkvCrashed`) and the next file gets a new one.
 * - A suite run that outlives --file-timeout-ms is killed (its whole process group, which this
 *   script created) and reported as `timedOut`, never waited for.
 * - Only processes this script spawned are ever signalled, by their own pid or process group.
 * - With --out, each run's raw output and each file's failure details are written there.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { frostEntry } from './net-frostkv.js';
import { freePort, RedisServer, RespClient, RespError } from './redis-peer.js';
import { argNumber, argValue, note, sleep } from './support.js';

const kRoot = fileURLToPath(new URL('../', import.meta.url));
const kDefaultEntry = join(kRoot, 'dist', 'src', 'cli', 'main.js');
const kDefaultFiles = [
  'unit/keyspace', 'unit/type/string', 'unit/type/incr', 'unit/expire', 'unit/multi', 'unit/type/hash',
  'unit/protocol', 'unit/info-command', 'unit/introspection', 'unit/introspection-2', 'unit/scan',
  'unit/quit', 'unit/other', 'integration/redis-cli',
];
/** A suite file that has not finished after this long is killed and reported as a hang. */
const kDefaultFileTimeoutMs = 10 * 60_000;
/** The suite's own no-progress watchdog, in seconds (runtest --timeout). */
const kSuiteTimeoutSec = 180;
const kStartupTimeoutMs = 60_000;
const kStopGraceMs = 10_000;
/** Characters of a failure's message kept in the JSON details (the raw output has all of it). */
const kDetailMaxChars = 1200;

// ------------------------------------------------------------------ the suite's output

export interface SuiteRun {
  passed: string[];
  /** Test name → the suite's message (first failure of that name). */
  failed: Map<string, string>;
  failedNames: string[];
  ignored: number;
  /** `[err]` lines that name no test: an error outside a test aborted the rest of a block. */
  blockErrors: string[];
  exception: string | null;
}

const kStatusLine = /^\[(ok|err|exception|skip|ignore)\]: (.*)$/;
/** Lines the test server prints that end a multi-line `[err]` message. */
const kBoundaryLine = /^(\[(ok|err|exception|skip|ignore|ready)\]: |\[\d+\/\d+ done\]: |Testing |Cleanup: |All tests passed|!!! WARNING|\s*\[ok\]:)/;

/** Parse `[ok]`, `[err]`, `[exception]`, `[skip]`/`[ignore]` lines of one `runtest` output. */
export function parseSuiteOutput(raw: string, file: string): SuiteRun {
  const lines = raw.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
  const run: SuiteRun = { passed: [], failed: new Map(), failedNames: [], ignored: 0, blockErrors: [], exception: null };
  const suffix = ` in tests/${file}.tcl`;
  for (let i = 0; i < lines.length; i++) {
    const match = kStatusLine.exec(lines[i] as string);
    if (match === null) continue;
    const [, status, rest] = match as unknown as [string, string, string];
    if (status === 'ok') run.passed.push(rest.replace(/ \(\d+ ms\)$/, ''));
    else if (status === 'skip' || status === 'ignore') run.ignored++;
    else {
      const body: string[] = [];
      for (let j = i + 1; j < lines.length && !kBoundaryLine.test(lines[j] as string); j++) body.push(lines[j] as string);
      const message = body.join('\n').trim();
      if (status === 'exception') run.exception = `${rest}\n${message}`.trim();
      else if (rest.endsWith(suffix)) {
        const name = rest.slice(0, -suffix.length);
        run.failedNames.push(name);
        if (!run.failed.has(name)) run.failed.set(name, message);
      } else run.blockErrors.push(`${rest}\n${message}`.trim());
    }
  }
  return run;
}

export interface FileComparison {
  redisPassed: number;
  frostkvPassed: number;
  frostkvPassedOfRedisPassed: number;
  /** Tests Redis passed and frostkv did not, with why (the suite's message, or "not run"). */
  failures: Array<{ name: string; detail: string }>;
}

/** Why a test Redis ran never reported on frostkv: what stopped the file, or a condition in it. */
function notRunReason(frostkv: SuiteRun): string {
  if (frostkv.blockErrors.length > 0) {
    const first = (frostkv.blockErrors[0] as string).split('\n').find((line) => /^[A-Z]+ /.test(line)) ?? (frostkv.blockErrors[0] as string).split('\n')[0];
    return `not run: an error outside any test aborted the rest of its block (${first})`;
  }
  if (frostkv.exception !== null) return 'not run: the test client died with an exception before it';
  return 'not run: the file skipped it on frostkv (a condition in the file, e.g. on an INFO field), or a timeout stopped the file first';
}

/** Match test names as multisets: a name the suite runs twice must pass twice. */
export function compareRuns(redis: SuiteRun, frostkv: SuiteRun): FileComparison {
  const frostPasses = new Map<string, number>();
  for (const name of frostkv.passed) frostPasses.set(name, (frostPasses.get(name) ?? 0) + 1);
  let both = 0;
  const failures: FileComparison['failures'] = [];
  for (const name of redis.passed) {
    const left = frostPasses.get(name) ?? 0;
    if (left > 0) {
      frostPasses.set(name, left - 1);
      both++;
      continue;
    }
    const detail = frostkv.failed.get(name) ?? notRunReason(frostkv);
    failures.push({ name, detail: detail.length > kDetailMaxChars ? `${detail.slice(0, kDetailMaxChars)}…` : detail });
  }
  return { redisPassed: redis.passed.length, frostkvPassed: frostkv.passed.length, frostkvPassedOfRedisPassed: both, failures };
}

// ------------------------------------------------------------------ running runtest

interface RawRun {
  output: string;
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
}

/** One `runtest --single <file>` against host:port, killed (its process group) at the timeout. */
function runSuiteFile(suiteDir: string, port: number, file: string, timeoutMs: number): Promise<RawRun> {
  const args = [
    '--host', '127.0.0.1', '--port', String(port), '--singledb', '--ignore-encoding', '--ignore-digest',
    '--durable', '--clients', '1', '--timeout', String(kSuiteTimeoutSec),
    '--tags', '-needs:debug', '--tags', '-needs:repl', '--single', file,
  ];
  const startedAt = performance.now();
  // detached: runtest starts its own test-client tclsh; a process group lets a hang be killed whole.
  const child = spawn('./runtest', args, { cwd: suiteDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TERM: 'dumb' } });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  let timedOut = false;
  const killGroup = (): void => {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, timeoutMs);
  process.once('exit', killGroup);
  return new Promise((resolveRun) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      process.off('exit', killGroup);
      // The test client can outlive the test server when the server exits on an exception.
      killGroup();
      resolveRun({ output, exitCode: code, timedOut, durationMs: Math.round(performance.now() - startedAt) });
    });
  });
}

// ------------------------------------------------------------------ frostkv

interface FrostProcess {
  port: number;
  /** Exit code or signal once it exited; null while it runs. */
  exitStatus(): string | null;
  logTail(): string;
  stop(): Promise<void>;
}

/** Resolves once PING on the RESP port answers PONG (frostkv answers -LOADING while it loads). */
async function waitForPong(port: number, deadlineMs: number, alive: () => boolean): Promise<void> {
  while (performance.now() < deadlineMs) {
    if (!alive()) throw new Error('the server exited during startup');
    try {
      const client = await RespClient.connect(port);
      try {
        if ((await client.command('PING')) === 'PONG') return;
      } catch (error) {
        if (!(error instanceof RespError)) throw error;
      } finally {
        client.close();
      }
    } catch {
      // Not listening yet.
    }
    await sleep(50);
  }
  throw new Error(`no PONG on port ${port} in time`);
}

async function startFrostkv(entry: string): Promise<FrostProcess> {
  const port = await freePort();
  const skyhashPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'frostkv-redis-suite-'));
  const args = [entry, '--noart', '--nosave', '--data-dir', dataDir, '--port', String(skyhashPort), '--resp-port', String(port), '--log-level', 'warn'];
  const child = spawn(process.execPath, args, { cwd: kRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk: string): void => void (log = (log + chunk).slice(-16_384));
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  let status: string | null = null;
  const exited = new Promise<void>((done) => child.once('exit', (code, signal) => ((status = signal ?? `exit ${code}`), done())));
  const killOnExit = (): void => void (status === null && child.kill('SIGKILL'));
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    if (status === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => status === null && child.kill('SIGKILL'), kStopGraceMs);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForPong(port, performance.now() + kStartupTimeoutMs, () => status === null);
  } catch (error) {
    await stop();
    throw new Error(`frostkv did not start (${(error as Error).message}):\n${log}`);
  }
  return { port, exitStatus: () => status, logTail: () => log, stop };
}

/** Whether a server someone else runs still answers PING (for --frostkv-port). */
async function answersPing(port: number): Promise<boolean> {
  try {
    await waitForPong(port, performance.now() + 5_000, () => true);
    return true;
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ one file, both servers

interface Options {
  suiteDir: string;
  files: string[];
  frostkvPort: number | null;
  entry: string;
  outDir: string | null;
  fileTimeoutMs: number;
}

function saveRaw(options: Options, file: string, side: string, text: string): void {
  if (options.outDir === null) return;
  writeFileSync(join(options.outDir, `${file.replaceAll('/', '_')}.${side}.txt`), text);
}

async function runOnRedis(options: Options, file: string): Promise<RawRun> {
  const dir = mkdtempSync(join(tmpdir(), 'frostkv-redis-suite-redis-'));
  const { server } = await RedisServer.start(dir);
  try {
    return await runSuiteFile(options.suiteDir, server.port, file, options.fileTimeoutMs);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runOnFrostkv(options: Options, file: string): Promise<{ run: RawRun; crash: string | null }> {
  if (options.frostkvPort !== null) {
    const run = await runSuiteFile(options.suiteDir, options.frostkvPort, file, options.fileTimeoutMs);
    return { run, crash: (await answersPing(options.frostkvPort)) ? null : 'the server no longer answers PING' };
  }
  const frost = await startFrostkv(options.entry);
  try {
    const run = await runSuiteFile(options.suiteDir, frost.port, file, options.fileTimeoutMs);
    const status = frost.exitStatus();
    return { run, crash: status === null ? null : `frostkv exited (${status}) during the file; log tail:\n${frost.logTail()}` };
  } finally {
    await frost.stop();
  }
}

function runTrouble(run: RawRun, parsed: SuiteRun): string | null {
  if (run.timedOut) return `timed out after ${run.durationMs} ms`;
  if (parsed.exception !== null) return `exception: ${parsed.exception.split('\n').slice(0, 6).join(' | ')}`;
  if (run.exitCode !== 0 && parsed.failedNames.length === 0 && parsed.blockErrors.length === 0) return `runtest exited ${run.exitCode}`;
  return null;
}

async function runFile(options: Options, file: string): Promise<Record<string, unknown>> {
  note(`${file}: redis-server…`);
  const redisRaw = await runOnRedis(options, file);
  saveRaw(options, file, 'redis', redisRaw.output);
  note(`${file}: frostkv…`);
  const { run: frostRaw, crash } = await runOnFrostkv(options, file);
  saveRaw(options, file, 'frostkv', frostRaw.output);
  const redis = parseSuiteOutput(redisRaw.output, file);
  const frost = parseSuiteOutput(frostRaw.output, file);
  const cmp = compareRuns(redis, frost);
  const ratio = cmp.redisPassed === 0 ? null : Number((cmp.frostkvPassedOfRedisPassed / cmp.redisPassed).toFixed(4));
  if (options.outDir !== null) {
    const details = { file, failures: cmp.failures, frostkvBlockErrors: frost.blockErrors, frostkvException: frost.exception, crash };
    writeFileSync(join(options.outDir, `${file.replaceAll('/', '_')}.failures.json`), `${JSON.stringify(details, null, 2)}\n`);
  }
  return {
    file,
    redisPassed: cmp.redisPassed,
    frostkvPassed: cmp.frostkvPassed,
    frostkvPassedOfRedisPassed: cmp.frostkvPassedOfRedisPassed,
    ratio,
    failures: cmp.failures.map((failure) => failure.name),
    redisFailed: redis.failedNames.length,
    frostkvFailed: frost.failedNames.length,
    frostkvBlockErrors: frost.blockErrors.length,
    redisTrouble: runTrouble(redisRaw, redis),
    frostkvTrouble: runTrouble(frostRaw, frost),
    frostkvCrashed: crash !== null,
    redisMs: redisRaw.durationMs,
    frostkvMs: frostRaw.durationMs,
  };
}

// ------------------------------------------------------------------ command line

function suiteRoot(path: string): string {
  const root = existsSync(join(path, 'runtest')) ? path : join(path, '..');
  if (!existsSync(join(root, 'runtest')) || !existsSync(join(root, 'tests', 'test_helper.tcl'))) {
    throw new Error(`--suite ${path}: no runtest and tests/test_helper.tcl there (fetch redis 7.0.15 and extract it first)`);
  }
  return root;
}

function parseOptions(argv: readonly string[]): Options {
  const suite = argValue(argv, '--suite');
  if (suite === undefined) throw new Error('usage: redis-suite.ts --suite <redis source dir> [--files a,b] [--frostkv-port N] [--frostkv-entry F] [--out DIR]');
  const suiteDir = suiteRoot(resolve(suite));
  const files = (argValue(argv, '--files') ?? kDefaultFiles.join(',')).split(',').map((f) => f.trim()).filter((f) => f !== '');
  for (const file of files) {
    if (!existsSync(join(suiteDir, 'tests', `${file}.tcl`))) throw new Error(`--files: ${file} is not a suite file (no tests/${file}.tcl)`);
  }
  const portText = argValue(argv, '--frostkv-port');
  const frostkvPort = portText === undefined ? null : argNumber(argv, '--frostkv-port', 0);
  const entry = resolve(argValue(argv, '--frostkv-entry') ?? kDefaultEntry);
  if (frostkvPort === null && !existsSync(entry)) throw new Error(`${entry} does not exist: run \`npm run build\` first (or pass --frostkv-entry)`);
  const out = argValue(argv, '--out');
  const outDir = out === undefined ? null : resolve(out);
  if (outDir !== null) mkdirSync(outDir, { recursive: true });
  return { suiteDir, files, frostkvPort, entry, outDir, fileTimeoutMs: argNumber(argv, '--file-timeout-ms', kDefaultFileTimeoutMs) };
}

/** The external-mode block setup runs `r function flush` outside any catch; frostkv has no FUNCTION. */
function warnIfUnpatched(suiteDir: string, entry: string): void {
  const server = readFileSync(join(suiteDir, 'tests', 'support', 'server.tcl'), 'utf8');
  if (/^\s*r function flush\s*$/m.test(server)) {
    note('WARNING: tests/support/server.tcl runs `r function flush` outside a catch: every block fails on frostkv; wrap it in `catch {}` in your copy');
  }
  if (entry === kDefaultEntry && frostEntry().stale) note('WARNING: dist/ is older than src/ or workers/: run `npm run build` first, or the suite tests old code');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  warnIfUnpatched(options.suiteDir, options.entry);
  const totals = { files: 0, redisPassed: 0, frostkvPassedOfRedisPassed: 0, frostkvPassed: 0, crashes: 0, timeouts: 0 };
  for (const file of options.files) {
    const line = await runFile(options, file);
    process.stdout.write(`${JSON.stringify(line)}\n`);
    totals.files++;
    totals.redisPassed += line.redisPassed as number;
    totals.frostkvPassed += line.frostkvPassed as number;
    totals.frostkvPassedOfRedisPassed += line.frostkvPassedOfRedisPassed as number;
    if (line.frostkvCrashed === true) totals.crashes++;
    if (String(line.frostkvTrouble ?? '').startsWith('timed out')) totals.timeouts++;
  }
  const ratio = totals.redisPassed === 0 ? null : Number((totals.frostkvPassedOfRedisPassed / totals.redisPassed).toFixed(4));
  process.stdout.write(`${JSON.stringify({ summary: true, ...totals, ratio })}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    note(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
