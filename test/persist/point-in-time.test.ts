import { describe, expect, it } from 'vitest';
import { setImmediate as nextTick } from 'node:timers/promises';
import { join } from 'node:path';
import { open, type Database } from '../../src/database.js';
import { encodeList } from '../../src/engine/list.js';
import type { Digest } from '../../src/table/digest.js';
import type { SaveReport } from '../../src/persist/save.js';
import { ModelTable, databaseDigests } from '../support/digests.js';
import { withSeed, type Rng } from '../support/random.js';
import { tempDir } from '../support/tmp.js';

const kTables = ['default:default', 'app:texts', 'app:lists', 'app:scratch'] as const;

interface World {
  db: Database;
  models: Record<string, ModelTable>;
  lists: Map<string, Buffer[]>;
  /** Digests of every table, keyed by the engine's change count at chunk boundaries. */
  history: Map<number, Record<string, Digest>>;
}

function snapshotAll(world: World): Record<string, Digest> {
  const out: Record<string, Digest> = {};
  for (const name of kTables) out[name] = name === 'app:scratch' ? { count: 0, sum: 0, xor: 0 } : world.models[name]!.snapshot();
  return out;
}

function writeChunk(world: World, rng: Rng, operations: number): void {
  const { db, models, lists } = world;
  for (let i = 0; i < operations; i++) {
    const roll = rng.float();
    const id = rng.int(4_000);
    if (roll < 0.45) {
      const key = Buffer.from(`bin:${id}`);
      const value = rng.float() < 0.02 ? rng.bytes(6_000 + rng.int(6_000)) : rng.bytes(rng.int(100));
      db.table('default:default').set(key, value);
      models['default:default']!.set(key, value);
    } else if (roll < 0.6) {
      const key = Buffer.from(`bin:${id}`);
      db.table('default:default').delete(key);
      models['default:default']!.delete(key);
    } else if (roll < 0.8) {
      const key = Buffer.from(`text:${id % 1000}`);
      const value = Buffer.from(`värde-${rng.nextU32()}`);
      db.table('app:texts').set(key, value);
      models['app:texts']!.set(key, value);
    } else if (roll < 0.92) {
      const key = Buffer.from(`list:${id % 300}`);
      const handle = db.table('app:lists');
      const current = lists.get(key.toString());
      const element = Buffer.from(`e${rng.int(1000)}`);
      if (current === undefined) {
        handle.listCreate(key, [element]);
        lists.set(key.toString(), [element]);
      } else {
        handle.listPush(key, [element]);
        current.push(element);
      }
      models['app:lists']!.set(key, encodeList('str', lists.get(key.toString())!));
    } else {
      db.table('app:scratch').set(`v:${id}`, 'volatile');
    }
  }
}

async function openRestored(folder: string): Promise<Database> {
  return open({ server: { dataDir: tempDir() }, bgsave: { enabled: false, every: 120 }, restore: folder }, { saveOnShutdown: false });
}

function expectMatches(db: Database, expected: Record<string, Digest> | undefined, what: string): void {
  expect(expected, `${what}: no recorded state for its cut`).toBeDefined();
  const actual = databaseDigests(db);
  expect(actual.tables).toEqual([...kTables].sort());
  for (const name of kTables) expect(actual.digests[name], `${what}: table ${name}`).toEqual(expected![name]);
}

describe('saves are exact points in time', () => {
  it('holds, for every kind of save under continuous random writes, the digest of the table at its cut', async () => {
    await withSeed(async (rng) => {
      const dir = tempDir();
      const db = await open(
        { server: { dataDir: dir }, bgsave: { enabled: false, every: 120 }, snapshot: { enabled: true, every: 3600, atmost: 0, failsafe: true } },
        { saveOnShutdown: false },
      );
      db.createKeyspace('app');
      db.createTable('app:texts', 'keymap(str,str)');
      db.createTable('app:lists', 'keymap(str,list<str>)');
      db.createTable('app:scratch', 'keymap(str,str)', { volatile: true });
      const world: World = {
        db,
        models: Object.fromEntries(kTables.map((name) => [name, new ModelTable()])),
        lists: new Map(),
        history: new Map(),
      };
      world.history.set(db.engine.changeCount, snapshotAll(world));
      let stop = false;
      const writer = (async () => {
        while (!stop) {
          writeChunk(world, rng, 200);
          world.history.set(db.engine.changeCount, snapshotAll(world));
          await nextTick();
        }
      })();

      const saves: Array<{ kind: string; report: SaveReport }> = [];
      const plan = ['named', 'live', 'named', 'local', 'live', 'named', 'live'];
      for (const [index, kind] of plan.entries()) {
        await new Promise((resolve) => setTimeout(resolve, 40));
        if (kind === 'live') {
          const result = await db.save();
          expect(result.ok).toBe(true);
          saves.push({ kind, report: result.report! });
        } else {
          const result = kind === 'local' ? await db.snapshot() : await db.snapshot(`pit/run-${index}`);
          expect(result.code, result.message).toBe('ok');
          saves.push({ kind, report: result.report! });
        }
      }
      stop = true;
      await writer;
      // Every save was cut while writes were in flight: none of them equals the end state.
      const endCount = db.engine.changeCount;
      expect(saves.every((save) => save.report.changeCount < endCount)).toBe(true);

      for (const save of saves.filter((s) => s.kind !== 'live')) {
        const restored = await openRestored(save.report.finalDir);
        expectMatches(restored, world.history.get(save.report.changeCount), `${save.kind} snapshot ${save.report.finalDir}`);
        await restored.close();
      }
      await db.close();
      const lastLive = saves.filter((s) => s.kind === 'live').at(-1)!;
      const reopened = await open({ server: { dataDir: dir }, bgsave: { enabled: false, every: 120 } }, { saveOnShutdown: false });
      expectMatches(reopened, world.history.get(lastLive.report.changeCount), 'the live save');
      expect(reopened.table('app:scratch').size).toBe(0);
      expect(reopened.describeTable('app:scratch').volatile).toBe(true);
      await reopened.close();
      expect(join(dir, 'ks')).toBe(lastLive.report.finalDir);
    });
  });
});
