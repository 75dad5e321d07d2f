/**
 * docs/scale-out.md's recipe cannot rot: its YAML block and its command block are read from the
 * page and run, with every port the page names moved to a free one and the data directories to
 * temporary ones. The shard lines start real frostkv child processes with the page's flags;
 * `nutcracker -t` must accept the page's YAML; nutcracker runs with it; each `redis-cli` line
 * must print what its `# comment` says. redis-cli lines are skipped (with a note) when
 * redis-cli is missing, unless CI is set.
 */

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { kNutcrackerBin, kNutcrackerNote, kNutcrackerSkip, startNutcracker, startShardWithArgs, type Nutcracker, type ShardProcess } from '../support/nutcracker.js';

const kDoc = fileURLToPath(new URL('../../docs/scale-out.md', import.meta.url));
const kInCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const kHasCli = spawnSync('sh', ['-c', 'command -v redis-cli'], { stdio: 'ignore' }).status === 0;
const kCliNote = kHasCli || kInCi ? '' : ' [redis-cli lines SKIPPED: redis-cli is not installed]';
const kCommandTimeoutMs = 10_000;

/** The fenced block right after the `<!-- scale-out:<marker> ... -->` comment. */
function block(doc: string, marker: string): string {
  const at = doc.indexOf(`<!-- scale-out:${marker}`);
  if (at < 0) throw new Error(`docs/scale-out.md has no scale-out:${marker} block`);
  const match = /```[a-z]*\n([\s\S]*?)```/.exec(doc.slice(at));
  if (match === null) throw new Error(`no fenced block after scale-out:${marker}`);
  return match[1] as string;
}

const doc = readFileSync(kDoc, 'utf8');
const yaml = block(doc, 'yaml');
const commands = block(doc, 'commands').split('\n').filter((line) => line.trim() !== '');

/** Every port the page's YAML and commands name, each mapped to a free port. */
async function portMap(): Promise<Map<string, string>> {
  const ports = new Set<string>();
  for (const match of yaml.matchAll(/127\.0\.0\.1:(\d+)/g)) ports.add(match[1] as string);
  for (const match of commands.join('\n').matchAll(/(?:--port|--resp-port|-s|-p) (\d+)|\bin ((?:\d+ ?)+);/g)) {
    for (const port of (match[1] ?? match[2] ?? '').trim().split(' ')) ports.add(port);
  }
  const map = new Map<string, string>();
  for (const port of ports) map.set(port, String(await freePort()));
  return map;
}

function mapPorts(text: string, map: Map<string, string>): string {
  return text.replace(/\b\d{4,5}\b/g, (port) => map.get(port) ?? port);
}

let map: Map<string, string>;
let workDir: string;
const shards: ShardProcess[] = [];
let proxy: Nutcracker | undefined;

beforeAll(async () => {
  if (kNutcrackerSkip) return;
  map = await portMap();
  workDir = tempDir();
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all(shards.map((shard) => shard.stop()));
});

function argsOf(line: string): string[] {
  return line.replace(/\s*#.*$/, '').replace(/\s*&$/, '').trim().split(/\s+/);
}

describe.skipIf(kNutcrackerSkip)(`docs/scale-out.md's recipe runs as written${kNutcrackerNote}${kCliNote}`, () => {
  it('the YAML names three shards and the command block starts three, then nutcracker, then talks to it', () => {
    expect(yaml).toMatch(/^ {2}distribution: ketama$/m);
    expect(yaml).toMatch(/^ {2}hash_tag: "\{\}"$/m);
    expect(yaml.match(/^ {4}- 127\.0\.0\.1:\d+:1 shard\d$/gm)).toHaveLength(3);
    expect(commands.filter((line) => line.startsWith('frostkv '))).toHaveLength(3);
    expect(commands.filter((line) => line.startsWith('nutcracker '))).toHaveLength(2);
    expect(commands.filter((line) => line.startsWith('redis-cli ')).length).toBeGreaterThan(0);
  });

  it('every line of the command block does what the page says', async () => {
    const confPath = join(workDir, 'nutcracker.yml');
    const mappedYaml = mapPorts(yaml, map);
    writeFileSync(confPath, mappedYaml);
    for (const line of commands) {
      const args = argsOf(mapPorts(line, map));
      if (args[0] === 'frostkv') {
        const at = args.indexOf('--data-dir');
        expect(at, line).toBeGreaterThan(0);
        args[at + 1] = join(workDir, args[at + 1] as string);
        shards.push(await startShardWithArgs(args.slice(1)));
      } else if (line.startsWith('for ')) {
        if (!kHasCli && !kInCi) continue;
        const loop = spawnSync('sh', ['-c', mapPorts(line, map)], { encoding: 'utf8', timeout: kCommandTimeoutMs });
        expect(loop.status, `${line}\n${loop.stderr}`).toBe(0);
      } else if (args[0] === 'nutcracker' && args.includes('-t')) {
        const check = spawnSync(kNutcrackerBin as string, ['-t', '-c', confPath], { encoding: 'utf8' });
        expect(check.status, `${line}\n${check.stderr}${check.stdout}`).toBe(0);
      } else if (args[0] === 'nutcracker') {
        // The helper passes -c, -s and -o (and more): the page's line must need nothing else.
        expect(args.filter((arg) => arg.startsWith('-')).sort()).toEqual(['-c', '-o', '-s']);
        const listen = Number(/listen: 127\.0\.0\.1:(\d+)/.exec(mappedYaml)?.[1]);
        proxy = await startNutcracker(mappedYaml, listen);
      } else if (args[0] === 'redis-cli') {
        if (!kHasCli && !kInCi) continue;
        const expected = /#\s*(.*)$/.exec(line)?.[1]?.trim() ?? '';
        const run = spawnSync('redis-cli', args.slice(1), { encoding: 'utf8', timeout: kCommandTimeoutMs });
        expect(run.status, `${line}\n${run.stderr}`).toBe(0);
        expect(run.stdout.trim().split('\n').join(' '), line).toBe(expected);
      } else {
        throw new Error(`the test does not know how to run this line of docs/scale-out.md: ${line}`);
      }
    }
    expect(shards).toHaveLength(3);
    expect(proxy).toBeDefined();
  }, 60_000);
});
