/**
 * The server's log lines as a user sees them (a real child process): pretty lines are the
 * message alone (the figures are already in the sentence), and a JSON line carries each key
 * once — `pid` included — with the fields kept machine-readable.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { freePort, spawnCli, type ChildServer } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

async function runAndStop(format: 'pretty' | 'json'): Promise<ChildServer> {
  const child = spawnCli(['--data-dir', join(tempDir(), 'data'), '--port', String(await freePort()), '--noart', '--log-format', format]);
  await child.waitFor(/ready to accept connections/);
  child.proc.kill('SIGTERM');
  expect((await child.exited).code).toBe(0);
  return child;
}

/** Every key of a JSON object text in order, duplicates kept (JSON.parse would drop them). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') {
      let end = i + 1;
      while (line[end] !== '"') end += line[end] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(line.slice(i + 1, end));
      expectKey = false;
      i = end;
    } else if (ch === '{' || ch === '[') {
      depth++;
      expectKey = ch === '{' && depth === 1;
    } else if (ch === '}' || ch === ']') {
      depth--;
    } else if (ch === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}

describe('server logs', () => {
  it('pretty lines carry the message only, never the fields repeated as JSON after it', async () => {
    const child = await runAndStop('pretty');
    const lines = child.output().split('\n').filter((line) => line.trim() !== '');
    expect(lines.some((line) => /Skyhash listening on 127\.0\.0\.1:\d+$/.test(line))).toBe(true);
    expect(lines.some((line) => /frostkv .* starting \(pid \d+, Node v[\d.]+\)$/.test(line))).toBe(true);
    for (const line of lines) expect(line, line).not.toMatch(/\{"/);
  }, 30_000);

  it('JSON lines hold every key once (pid too) and keep the structured fields', async () => {
    const child = await runAndStop('json');
    const lines = child.output().split('\n').filter((line) => line.startsWith('{'));
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      const keys = topLevelKeys(line);
      expect(keys.filter((key) => key === 'pid'), line).toHaveLength(1);
      expect(new Set(keys).size, line).toBe(keys.length);
    }
    const starting = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => /starting/.test(String(entry.msg)));
    expect(starting?.pid).toBe(child.proc.pid);
    expect(typeof starting?.version).toBe('string');
    const listening = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => /Skyhash listening/.test(String(entry.msg)));
    expect(listening?.skyhash).toMatchObject({ host: '127.0.0.1' });
  }, 30_000);
});
