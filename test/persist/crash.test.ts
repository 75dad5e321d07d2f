import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open } from '../../src/database.js';
import { createWorkerPool, type WorkerPool } from '../../src/persist/worker-pool.js';
import { verifySave } from '../../src/persist/restore.js';
import { withSeed } from '../support/random.js';
import { tempDir } from '../support/tmp.js';

const child = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));
const kIterations = 14;

let pool: WorkerPool;
beforeAll(() => {
  pool = createWorkerPool(2);
});
afterAll(async () => {
  await pool.destroy();
});

/** Run the child until `killAfterMs` past its first save, then SIGKILL it; returns its last line. */
function runAndKill(dataDir: string, killAfterMs: number): Promise<{ lastLine: string; saving: boolean }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dataDir, '40000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    let armed = false;
    proc.stdout.setEncoding('utf8').on('data', (text: string) => {
      output += text;
      if (!armed && output.includes('saved')) {
        armed = true;
        setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      }
    });
    proc.stderr.setEncoding('utf8').on('data', (text: string) => {
      errors += text;
    });
    proc.on('error', reject);
    proc.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`child exited on its own (${String(_code)}): ${errors}`));
      const lines = output.trim().split('\n');
      const lastLine = lines.at(-1) ?? '';
      resolve({ lastLine, saving: lastLine.startsWith('saving') });
    });
  });
}

describe('crash safety', () => {
  it('leaves a loadable live save and only verifiable snapshots after SIGKILL at random moments', async () => {
    await withSeed(async (rng) => {
      const dataDir = tempDir();
      let killedMidSave = 0;
      for (let iteration = 0; iteration < kIterations; iteration++) {
        const { saving } = await runAndKill(dataDir, rng.int(700));
        if (saving) killedMidSave++;

        const db = await open({ server: { dataDir }, bgsave: { enabled: false, every: 120 } }, { saveOnShutdown: false });
        const table = db.table();
        const round = table.getString('meta:round');
        if (round !== undefined) {
          // A consistent save holds exactly one round: every key carries the same number.
          const rounds = new Set<string>();
          for (const [key, value] of table) if (key.toString() !== 'meta:round') rounds.add(value.toString().split('-')[1] ?? '?');
          expect([...rounds]).toEqual([round]);
        }
        await db.close();
        for (const name of readdirSync(dataDir)) expect(name.startsWith('.tmp-') || name.startsWith('.old-ks-')).toBe(false);

        const snapshots = [
          ...(existsSync(join(dataDir, 'snaps')) ? readdirSync(join(dataDir, 'snaps')).map((n) => join(dataDir, 'snaps', n)) : []),
          ...(existsSync(join(dataDir, 'rsnap', 'crash')) ? readdirSync(join(dataDir, 'rsnap', 'crash')).map((n) => join(dataDir, 'rsnap', 'crash', n)) : []),
        ].filter((path) => !path.split('/').at(-1)!.startsWith('.'));
        for (const snapshot of snapshots) {
          const report = await verifySave(pool, snapshot);
          expect(report.problems, snapshot).toEqual([]);
        }
      }
      // The kills must actually have landed inside saves, not only between them.
      expect(killedMidSave).toBeGreaterThan(0);
    });
  }, 300_000);
});
