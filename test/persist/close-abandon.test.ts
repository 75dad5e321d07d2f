/**
 * Embedded shutdown: `close({ signal })` gives up on a final save that is still running as soon
 * as the signal aborts (not only between failed attempts), says what is lost, and leaves the
 * last successful live save to load; the data directory is released only after the workers are
 * gone.
 */
import { describe, expect, it } from 'vitest';
import { open } from '../../src/database.js';
import { silentLogger } from '../../src/util/log.js';
import { tempDir } from '../support/tmp.js';

const kKeys = 400_000;
const kValue = 'v'.repeat(200);

describe('close({ signal }) during a running final save', () => {
  it('rejects at once with ERR_SHUTDOWN_SAVE_ABANDONED, and the previous save loads', async () => {
    const dataDir = tempDir();
    const config = { server: { dataDir }, bgsave: { enabled: false, every: 120 }, workers: { threads: 1 } };
    const db = await open(config, { logger: silentLogger });
    const table = db.table();
    table.set('before', 'saved');
    expect((await db.save()).ok).toBe(true);
    for (let i = 0; i < kKeys; i++) table.set(`k${i}`, kValue);
    const abort = new AbortController();
    const closing = db.close({ signal: abort.signal });
    // The final save of ~90 MB takes far longer than this; give up while it runs.
    await new Promise((resolve) => setTimeout(resolve, 30));
    const abortedAt = performance.now();
    abort.abort();
    await expect(closing).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_SHUTDOWN_SAVE_ABANDONED', message: expect.stringMatching(/gave up on the final save: \d+ changes made since .* are lost/) }),
    );
    const gaveUpMs = performance.now() - abortedAt;
    expect(gaveUpMs).toBeLessThan(2_000);
    const reopened = await open(config, { logger: silentLogger, saveOnShutdown: false });
    expect(reopened.table().getString('before')).toBe('saved');
    // The abandoned save never replaced data/ks: none of the later keys is there.
    expect(reopened.table().getString('k0')).toBeUndefined();
    await reopened.close();
  }, 60_000);
});
