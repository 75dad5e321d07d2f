/**
 * Combine several runs of a bench into medians (how bench/RESULTS.md is produced).
 *
 *   node --import tsx bench/summarize.ts run1.jsonl run2.jsonl run3.jsonl
 *
 * Lines are matched across runs by bench, scenario and their identifying text fields (keys,
 * keyKind, subject, ...). For each match it prints one JSON line: every numeric field replaced
 * by its median across runs, booleans by "true in k of n runs", plus `runs`. Nothing else.
 */

import { readFileSync } from 'node:fs';
import { median } from './support.js';

type Line = Record<string, unknown>;

const kIdentity = ['bench', 'scenario', 'keys', 'keyKind', 'subject'];

function identity(line: Line): string {
  return kIdentity.map((field) => `${field}=${String(line[field] ?? '')}`).join(' ');
}

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: summarize.ts <run.jsonl>...\n');
  process.exit(2);
}
const groups = new Map<string, Line[]>();
for (const file of files) {
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    if (text.trim() === '') continue;
    const line = JSON.parse(text) as Line;
    const key = identity(line);
    const list = groups.get(key) ?? [];
    list.push(line);
    groups.set(key, list);
  }
}
for (const lines of groups.values()) {
  const first = lines[0] as Line;
  const out: Line = { runs: lines.length };
  for (const [field, value] of Object.entries(first)) {
    if (typeof value === 'number') {
      const values = lines.map((line) => line[field]).filter((v): v is number => typeof v === 'number');
      out[field] = kIdentity.includes(field) ? value : Number(median(values).toPrecision(4));
    } else if (typeof value === 'boolean') {
      const yes = lines.filter((line) => line[field] === true).length;
      out[field] = `${yes}/${lines.length}`;
    } else {
      out[field] = value;
    }
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
