/**
 * The one registry of error codes: every code frostkv raises is declared in src/util/errors.ts,
 * each once, and no module spells a code as a string of its own.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '../../src/util/errors.js';
import { replyForCode } from '../../src/server/skyhash/context.js';

const kRoot = fileURLToPath(new URL('../../', import.meta.url));
const kRegistry = join(kRoot, 'src', 'util', 'errors.ts');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('the error code registry', () => {
  it('declares each code once, in one shape', () => {
    const values = Object.values(ErrorCode);
    expect(new Set(values).size).toBe(values.length);
    for (const value of values) expect(value).toMatch(/^ERR_[A-Z0-9_]+$/);
  });

  it('is the only place a code is spelled out (src/ and workers/)', () => {
    const outside: string[] = [];
    for (const file of [...sourceFiles(join(kRoot, 'src')), ...sourceFiles(join(kRoot, 'workers'))]) {
      if (file === kRegistry) continue;
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/['"`](ERR_[A-Z0-9_]+)['"`]/g)) outside.push(`${relative(kRoot, file)}: ${match[1]}`);
    }
    expect(outside).toEqual([]);
  });

  it('gives every code a Skyhash reply, and a code outside the registry a server error', () => {
    for (const value of Object.values(ErrorCode)) expect(['number', 'string']).toContain(typeof replyForCode(value));
    expect(replyForCode(ErrorCode.keyspaceNotEmpty)).toBe('keyspace-not-empty');
    expect(replyForCode('ENOENT')).toBe(5);
  });
});
