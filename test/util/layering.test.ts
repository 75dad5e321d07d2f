import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const kRoot = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sources(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('layering', () => {
  it('the servers read values through the engine only: nothing in src/server imports src/table', () => {
    const offenders: string[] = [];
    for (const file of sources(join(kRoot, 'src/server'))) {
      for (const match of readFileSync(file, 'utf8').matchAll(/from\s+'([^']+)'/g)) {
        const target = resolve(join(file, '..'), match[1]!);
        if (relative(join(kRoot, 'src/table'), target).startsWith('..') === false) offenders.push(`${relative(kRoot, file)} -> ${match[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
