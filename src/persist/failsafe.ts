/**
 * The failsafe: which failed saves make the database refuse writes, and which successes let
 * it accept them again.
 *
 * Guarantees:
 * - Two causes are tracked separately. `bgsave`: the last live save (data/ks) failed. It is
 *   cleared only by a live save that succeeds (or finds nothing changed since the last one that
 *   did): data/ks is what start-up loads, so nothing else proves the writes are safe.
 *   `snapshot`: the last periodic snapshot failed while `snapshot.failsafe` is on. It is cleared
 *   by a periodic snapshot that succeeds (or is skipped because nothing changed) and by any
 *   successful live save (Skytable 0.7 clears its poison on a BGSAVE success too).
 * - The engine refuses writes exactly while at least one cause is set; its reason names every
 *   cause, so INFO, SYS METRIC HEALTH and the embedded status read one state and always agree.
 * - Each transition is logged once and reported through `onEvent` (`readOnly` / `readWrite`).
 */

import type { Engine } from '../engine/engine.js';
import type { Logger } from '../util/log.js';
import type { PersistenceEvent } from './events.js';

/** Why writes are refused: a failed live save, a failed periodic snapshot (failsafe on). */
export type ReadOnlyCause = 'bgsave' | 'snapshot';

const kCauseOrder: readonly ReadOnlyCause[] = ['bgsave', 'snapshot'];

export class Failsafe {
  private readonly causes = new Map<ReadOnlyCause, string>();

  constructor(
    private readonly engine: Engine,
    private readonly logger: Logger,
    private readonly onEvent: (event: PersistenceEvent) => void,
  ) {}

  /** The causes currently set, in a fixed order. */
  get active(): ReadOnlyCause[] {
    return kCauseOrder.filter((cause) => this.causes.has(cause));
  }

  /** Set `cause` (a failed save); the database refuses writes from now on. */
  fail(cause: ReadOnlyCause, reason: string): void {
    const wasReadOnly = this.causes.size > 0;
    const known = this.causes.get(cause);
    this.causes.set(cause, reason);
    this.apply();
    if (known === reason) return;
    const causes = this.active;
    if (!wasReadOnly) {
      this.logger.error(`entering read-only mode (cause: ${cause}): ${reason}; ${clearedBy(cause)}`, { readOnlyCauses: causes });
    } else {
      this.logger.error(`still read-only (causes: ${causes.join(', ')}): ${reason}`, { readOnlyCauses: causes });
    }
    this.onEvent({ type: 'readOnly', cause, causes, reason });
  }

  /** A save of one kind succeeded: clear the causes that success answers for. */
  succeeded(kind: 'bgsave' | 'snapshot', why: string): void {
    const cleared = kind === 'bgsave' ? kCauseOrder : (['snapshot'] as const);
    const wasReadOnly = this.causes.size > 0;
    const removed = cleared.filter((cause) => this.causes.delete(cause));
    if (removed.length === 0) return;
    this.apply();
    const left = this.active;
    if (wasReadOnly && left.length === 0) {
      this.logger.warn(`leaving read-only mode: ${why}`);
      this.onEvent({ type: 'readWrite', why, cleared: removed });
    } else {
      this.logger.warn(`${why}: cleared ${removed.join(', ')}, still read-only because of ${left.join(', ')}`, { readOnlyCauses: left });
    }
  }

  private apply(): void {
    if (this.causes.size === 0) {
      this.engine.clearReadOnly();
      return;
    }
    this.engine.setReadOnly(this.active.map((cause) => `${cause}: ${this.causes.get(cause) as string}`).join('; '));
  }
}

function clearedBy(cause: ReadOnlyCause): string {
  return cause === 'bgsave'
    ? 'writes are refused until a live save succeeds'
    : 'writes are refused until a periodic snapshot or a live save succeeds';
}
