/**
 * Who may connect: the effective connection limit, the reply a connection past it gets, and
 * noticing when the process runs out of file descriptors.
 *
 * Guarantees:
 * - `planMaxclient` raises the soft open-files limit toward what `server.maxclient` needs (at
 *   most the hard limit), and if it is still short lowers the effective maxclient so that every
 *   connection has a descriptor: the limit, less the descriptors open at start, the listeners
 *   and kReservedFds kept for save files and logs (Redis's adjustOpenFilesLimit, which keeps
 *   32). The lowering is logged once; it is never below 1.
 * - `refuse` answers a connection past the limit with its protocol's error and closes it once
 *   the reply is out (Redis answers `-ERR max number of clients reached`; a silent EOF left
 *   clients guessing), reading nothing from it.
 * - `FdWatch` logs, at most once per kFdWarnEveryMs, that descriptors are exhausted: from a
 *   listener's EMFILE/ENFILE error, and from a sample every kFdSampleEveryMs, because libuv
 *   handles EMFILE on accept itself (it accepts and closes the pending connections with a
 *   spare descriptor) without telling JavaScript.
 */

import { readdir } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { countOpenFds, raiseOpenFilesLimit, readOpenFilesLimits } from '../config/rlimit.js';
import type { Logger } from '../util/log.js';
import { kCloseFlushTimeoutMs } from './connection.js';

/** Descriptors kept free of connections for save files, logs and workers (Redis keeps 32). */
export const kReservedFds = 32;
/** How often the descriptors in use are counted. */
export const kFdSampleEveryMs = 5_000;
/** Log running out of descriptors at most this often. */
export const kFdWarnEveryMs = 10_000;
/** A sample this close to the limit counts as exhausted: accepts and opens are failing. */
export const kFdExhaustedMargin = 2;

/** RESP's reply to a connection past maxclient: Redis's text. */
export const kRespMaxClientsReply = Buffer.from('-ERR max number of clients reached\r\n');
/**
 * Skyhash's: a one-element response holding an error string, as actions answer `err-*`
 * (Skytable 0.7 had no reply: it kept the connection waiting for a free slot).
 */
export const kSkyhashMaxClientsReply = Buffer.from('*1\n!23\nerr-max-clients-reached\n');

/**
 * The maxclient this process can serve. `adjustFds` corrects the descriptors open now into the
 * server's own: plus listening sockets still to be opened, minus client connections already
 * open (they count against maxclient). With a logger, a lowering is logged: pass one only to
 * the final plan, made once everything the server keeps open at start is open.
 */
export function planMaxclient(configured: number, adjustFds: number, logger: Logger | null): number {
  const openNow = countOpenFds();
  if (openNow === null) return configured;
  const openAtStart = Math.max(0, openNow + adjustFds);
  const overhead = openAtStart + kReservedFds;
  const limits = raiseOpenFilesLimit(configured + overhead);
  if (limits.soft === null) return configured;
  const fits = limits.soft - overhead;
  if (fits >= configured) return configured;
  const effective = Math.max(1, fits);
  logger?.info(
    `maxclient lowered from ${configured} to ${effective}: the open-files limit is ${limits.soft} (hard limit ${limits.hard ?? 'unknown'}), ` +
      `${openAtStart} descriptors are in use at start and ${kReservedFds} are kept for saves and logs; raise ulimit -n for more`,
  );
  return effective;
}

/** Answer a connection past the limit and close it once the reply is out. */
export function refuse(socket: Socket, reply: Buffer): void {
  const destroy = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(destroy, kCloseFlushTimeoutMs);
  timer.unref();
  socket.on('error', destroy);
  socket.once('finish', destroy);
  socket.end(reply);
}

function isOutOfFds(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

export class FdWatch {
  private readonly logger: Logger;
  private readonly limit: () => number | null;
  private timer: NodeJS.Timeout | null = null;
  private lastWarnMs = -Infinity;
  private sampling = false;
  /** Times descriptors were found exhausted (logged or not). */
  exhaustedCount = 0;

  /** `limit` is the soft open-files limit to compare with (read from /proc by default). */
  constructor(logger: Logger, limit: () => number | null = () => readOpenFilesLimits().soft) {
    this.logger = logger;
    this.limit = limit;
  }

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => void this.sample(), kFdSampleEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** A listener reported an error: true when it was EMFILE/ENFILE (then it is logged here). */
  listenerError(error: unknown): boolean {
    if (!isOutOfFds(error)) return false;
    this.exhausted(`accepting a connection failed with ${(error as NodeJS.ErrnoException).code}`);
    return true;
  }

  /** Count the descriptors in use once; the timer calls it, tests may too. */
  async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      // The listing's own descriptor is open while it runs: it does not count.
      const open = (await readdir('/proc/self/fd')).length - 1;
      const limit = this.limit();
      if (limit !== null && open >= limit - kFdExhaustedMargin) this.exhausted(`${open} of ${limit} file descriptors are open`);
    } catch (error) {
      if (isOutOfFds(error)) this.exhausted('listing the open file descriptors failed with EMFILE');
    } finally {
      this.sampling = false;
    }
  }

  private exhausted(what: string): void {
    this.exhaustedCount++;
    const now = Date.now();
    if (now - this.lastWarnMs < kFdWarnEveryMs) return;
    this.lastWarnMs = now;
    this.logger.warn(
      `out of file descriptors (${what}): new connections are closed as they arrive and saves may fail to open files; raise ulimit -n or lower server.maxclient`,
    );
  }
}
