/**
 * COMMAND DOCS: every registered command has docs in Redis 7's reply shape (RESP2 and RESP3),
 * the syntax notation of docs.ts parses into Redis's argument maps, and the real redis-cli
 * (7.x) reads them: `HELP SET` prints the syntax and summary, `--stat` and `INFO` work.
 *
 * redis-cli comes from the system; when it is missing, the redis-cli tests are skipped and
 * say so (as test/server/resp/tools.test.ts does).
 */

import { spawn, spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kCommandDocs, parseSyntax } from '../../../src/server/resp/commands/docs.js';
import { kCommandTable } from '../../../src/server/resp/commands/registry.js';
import { startInProcess, type InProcessServer } from '../../support/server.js';
import { RawClient, type Reply } from './raw.js';

const kHasCli = spawnSync('sh', ['-c', 'command -v redis-cli && command -v stdbuf'], { stdio: 'ignore' }).status === 0;
const kCliNote = kHasCli ? '' : ' [SKIPPED: redis-cli or stdbuf is not installed]';
/** redis-cli colours its help even on a pipe. */
const kAnsi = /\x1b\[[0-9;]*m/g;

let server: InProcessServer;
let port: number;

beforeAll(async () => {
  server = await startInProcess({}, { resp: true });
  port = server.respPort as number;
});

afterAll(async () => {
  await server.stop();
});

/** A RESP reply as plain JS: maps as objects, sets as { set: [...] }, statuses as { status }. */
function plain(reply: Reply): unknown {
  switch (reply.t) {
    case '+':
      return { status: reply.v };
    case '$':
      return reply.v?.toString('utf8') ?? null;
    case ':':
      return Number(reply.v);
    case '*':
      return reply.v?.map(plain) ?? null;
    case '~':
      return { set: reply.v.map(plain) };
    case '%':
      return Object.fromEntries(reply.v.map(([k, v]) => [plain(k) as string, plain(v)]));
    default:
      return reply;
  }
}

describe('COMMAND DOCS data', () => {
  it('has a summary, the version that introduced it and a complexity for every command and subcommand frostkv registers', () => {
    const missing = kCommandTable.allNames().filter((name) => {
      const docs = kCommandDocs.get(name);
      return docs === undefined || docs.summary === '' || !/^\d+\.\d+\.\d+$/.test(docs.since) || docs.complexity === '';
    });
    expect(missing).toEqual([]);
  });

  it('parses the syntax notation into Redis 7 argument maps', () => {
    expect(parseSyntax('key:key [condition=NX|XX] [EX seconds:integer] [GET] member...')).toEqual([
      { name: 'key', type: 'key', flags: [] },
      {
        name: 'condition', type: 'oneof', flags: ['optional'],
        arguments: [{ name: 'nx', type: 'pure-token', token: 'NX', flags: [] }, { name: 'xx', type: 'pure-token', token: 'XX', flags: [] }],
      },
      { name: 'seconds', type: 'integer', token: 'EX', flags: ['optional'] },
      { name: 'get', type: 'pure-token', token: 'GET', flags: ['optional'] },
      { name: 'member', type: 'string', flags: ['multiple'] },
    ]);
    expect(parseSyntax('(data=field value)... [LIMIT offset:integer count:integer]')).toEqual([
      { name: 'data', type: 'block', flags: ['multiple'], arguments: [{ name: 'field', type: 'string', flags: [] }, { name: 'value', type: 'string', flags: [] }] },
      { name: 'offset', type: 'block', token: 'LIMIT', flags: ['optional'], arguments: [{ name: 'offset', type: 'integer', flags: [] }, { name: 'count', type: 'integer', flags: [] }] },
    ]);
    expect(() => parseSyntax('key:nosuchtype')).toThrow(/bad argument/);
    expect(() => parseSyntax('[key')).toThrow(/unexpected end/);
  });
});

describe('COMMAND DOCS replies', () => {
  it('answers the docs of the named commands in Redis 7 shape (RESP2: flat arrays, flags as statuses); unknown names are left out', async () => {
    const raw = await RawClient.connect(port);
    try {
      const reply = plain(await raw.call('COMMAND', 'DOCS', 'getdel', 'no-such-command'));
      expect(reply).toEqual([
        'getdel',
        ['summary', "Answer a key's string value and delete the key.", 'since', '6.2.0', 'group', 'string', 'complexity', 'O(1)', 'arguments', [['name', 'key', 'type', 'key']]],
      ]);
      const ping = plain(await raw.call('COMMAND', 'DOCS', 'ping')) as unknown[];
      expect((ping[1] as unknown[]).slice(-2)).toEqual(['arguments', [['name', 'message', 'type', 'string', 'flags', [{ status: 'optional' }]]]]);
    } finally {
      raw.socket.destroy();
    }
  });

  it('uses maps and sets in RESP3, with subcommands under their full names', async () => {
    const raw = await RawClient.connect(port);
    try {
      await raw.call('HELLO', '3');
      const reply = plain(await raw.call('COMMAND', 'DOCS', 'config')) as Record<string, Record<string, unknown>>;
      const config = reply['config'] as Record<string, unknown>;
      expect(config['group']).toBe('server');
      const subs = config['subcommands'] as Record<string, Record<string, unknown>>;
      expect(Object.keys(subs).sort()).toEqual(['config|get', 'config|help', 'config|resetstat', 'config|rewrite', 'config|set']);
      expect(subs['config|get']?.['arguments']).toEqual([{ name: 'parameter', type: 'string', flags: { set: [{ status: 'multiple' }] } }]);
    } finally {
      raw.socket.destroy();
    }
  });

  it('answers every command without names (ioredis)', async () => {
    const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await r.connect();
    try {
      const all = (await r.call('COMMAND', 'DOCS')) as unknown[];
      const names = all.filter((_, i) => i % 2 === 0);
      expect(names.sort()).toEqual(kCommandTable.entries.map((entry) => entry.fullName).sort());
    } finally {
      r.disconnect();
    }
  });
});

function runCli(args: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', ['-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-cli ${args.join(' ')} did not finish: ${out}`));
    }, timeoutMs);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out.replace(kAnsi, ''));
    });
  });
}

describe.skipIf(!kHasCli)(`redis-cli reads frostkv's docs and INFO${kCliNote}`, () => {
  it('HELP SET prints the syntax, summary, version and group', async () => {
    const out = await runCli(['HELP', 'SET']);
    expect(out).toContain('SET key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]');
    expect(out).toContain('summary: Store a string value at a key');
    expect(out).toContain('since: 1.0.0');
    expect(out).toContain('group: string');
  });

  it('HELP CONFIG SET names the subcommand with its arguments', async () => {
    const out = await runCli(['HELP', 'CONFIG', 'SET']);
    expect(out).toContain('CONFIG SET parameter value [parameter value ...]');
  });

  it('--stat prints its header and a line per interval from INFO', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      // stdbuf: redis-cli does not flush a pipe between lines.
      const child = spawn('stdbuf', ['-o0', 'redis-cli', '-p', String(port), '--stat', '-i', '0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`redis-cli --stat printed too little: ${text}`));
      }, 10_000);
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        if (text.split('\n').length >= 5) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve(text);
        }
      });
    });
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^-+ data -+ -+ load -+ - child -$/);
    expect(lines[1]).toMatch(/^keys\s+mem\s+clients\s+blocked\s+requests\s+connections/);
    expect(lines[2]).toMatch(/^\d+\s+[\d.]+[BKMG]\s+\d+\s+0\s+\d+ \(\+\d+\)\s+\d+/);
  });
});
