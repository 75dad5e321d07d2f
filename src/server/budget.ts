/**
 * One bound on the request bytes every connection together buffers (`limits.
 * request_buffers_max_bytes`), like Redis's maxmemory-clients: the per-request limits bound one
 * connection, this bounds their sum (100 connections each holding 10 MiB of a half-sent value
 * were 1.47 GB of RSS without it).
 *
 * Guarantees:
 * - `total` is the sum of what each member last reported (`update`) and has not released.
 * - When an update takes the total past the bound, the members holding the most are evicted,
 *   largest first, until the total is within it again: each is told once (`evict`, which
 *   answers an error and closes it), logged, and counted in `ServerStats.clientsEvicted`.
 *   Choosing the largest means a connection that sends ordinary requests is not closed because
 *   another is sending a huge one.
 * - Finding the largest sorts the members only when the bound is crossed; updates are O(1).
 */

import type { Logger } from '../util/log.js';
import type { ServerStats } from './stats.js';

export interface BudgetMember {
  /** Answer an error and close: this member's buffers took the total past the bound. */
  evict(): void;
  /** For the log line: who this is (an address). */
  readonly label: string;
}

export class RequestBudget {
  readonly maxBytes: number;
  private readonly held = new Map<BudgetMember, number>();
  private heldBytes = 0;
  private readonly logger: Logger;
  private readonly stats: ServerStats;

  constructor(maxBytes: number, logger: Logger, stats: ServerStats) {
    this.maxBytes = maxBytes;
    this.logger = logger;
    this.stats = stats;
  }

  get total(): number {
    return this.heldBytes;
  }

  /** `member` now holds `bytes`; evicts the largest members if that crosses the bound. */
  update(member: BudgetMember, bytes: number): void {
    const before = this.held.get(member) ?? 0;
    if (bytes === before) return;
    this.heldBytes += bytes - before;
    if (bytes === 0) this.held.delete(member);
    else this.held.set(member, bytes);
    if (this.heldBytes > this.maxBytes) this.evictLargest();
  }

  /** `member` is gone: what it held no longer counts. */
  release(member: BudgetMember): void {
    this.update(member, 0);
  }

  private evictLargest(): void {
    const largestFirst = [...this.held].sort((a, b) => b[1] - a[1]);
    for (const [member, bytes] of largestFirst) {
      if (this.heldBytes <= this.maxBytes) return;
      const totalBefore = this.heldBytes;
      // Removed here rather than through update(), so no eviction runs inside this one.
      this.held.delete(member);
      this.heldBytes -= bytes;
      this.stats.clientsEvicted++;
      this.logger.warn(
        `closing connection ${member.label}: it holds ${bytes} bytes of unfinished requests and all connections together held ${totalBefore}, ` +
          `over limits.request_buffers_max_bytes (${this.maxBytes})`,
      );
      member.evict();
    }
  }
}
