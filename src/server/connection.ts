/**
 * One client connection, whatever the protocol: feeds socket chunks to the protocol's parser,
 * runs each complete request, and writes the replies of everything one read produced in a
 * single socket write.
 *
 * Guarantees:
 * - Requests run in order. A request that must wait (MKSNAP, a long LSKEYS) pauses this
 *   connection only: bytes that arrive meanwhile are queued, never parsed, so argument views
 *   stay valid until the request finishes; every other connection keeps being served.
 * - After a protocol error (or RESP QUIT) the reply is written and the connection is closed:
 *   nothing more is read or parsed, our side is closed with a FIN once the reply is handed to
 *   the kernel, and the socket is destroyed when the client closes its side, kCloseLingerMs
 *   after the FIN (so a reset never beats the reply to a client still sending), or after
 *   kCloseFlushTimeoutMs if the client does not read (Skytable 0.7 left the bad bytes in its
 *   buffer; a client could never recover anyway).
 * - Memory is bounded: reading pauses while the socket has more than kWriteHighWaterBytes
 *   unsent; a connection idle for `idleTimeoutMs` (when set) or holding a half-sent request for
 *   `requestTimeoutMs` is closed; after every read the bytes its unfinished requests hold are
 *   reported to the server-wide RequestBudget, which may close it (largest holders first).
 * - An InvariantError from a request is not caught here: it means frostkv's own state is wrong,
 *   and the process must stop rather than keep serving.
 */

import type { Socket } from 'node:net';
import { isProtocolError, type ProtocolError } from '../protocol/limits.js';
import type { OutputBuffer } from '../protocol/output.js';
import { InvariantError } from '../util/assert.js';
import type { Logger } from '../util/log.js';
import type { BudgetMember, RequestBudget } from './budget.js';

/** Stop reading while this much of our replies is still waiting in the socket. */
export const kWriteHighWaterBytes = 8 * 1024 * 1024;
/** A closing connection's last replies get this long to leave before the socket is destroyed. */
export const kCloseFlushTimeoutMs = 2_000;
/** After our FIN is out, the client gets this long to read our last replies and close its side. */
export const kCloseLingerMs = 250;

export interface RequestParser<Request> {
  push(chunk: Uint8Array): void;
  next(): Request | null;
  readonly inRequest: boolean;
  /** Memory the parser holds for requests still arriving: receive storage, position arrays. */
  readonly retainedBytes: number;
  trim(): void;
}

export interface ProtocolDriver<Request> {
  readonly parser: RequestParser<Request>;
  readonly output: OutputBuffer;
  /** Run one request, appending its replies; return a Promise when it has to wait. */
  execute(request: Request): void | Promise<void>;
  /** Append the reply to a protocol error (the connection closes after it is written). */
  protocolError(error: ProtocolError): void;
  /**
   * Append the reply telling the client it is closed because the request buffers of all
   * connections together went past `limits.request_buffers_max_bytes` and it held the most.
   */
  buffersFull(): void;
  /** Whether the driver asked to close after the replies written so far (QUIT). */
  readonly closeRequested: boolean;
  /** The connection is gone: release session state. */
  closed(): void;
  /** Optional: told the connection's socket once, at accept (RESP's CLIENT LIST and KILL). */
  attach?(facts: ConnectionFacts): void;
}

/** What a connection tells its driver about itself. */
export interface ConnectionFacts {
  readonly socket: Socket;
  /** Close the connection now, without waiting for replies (CLIENT KILL of another client). */
  kill(): void;
  /** Request bytes the connection holds that are not yet run (parser and queued chunks). */
  bufferedBytes(): number;
}

export interface ConnectionOptions {
  idleTimeoutMs: number;
  requestTimeoutMs: number;
  logger: Logger;
  /** The server-wide bound on buffered request bytes this connection reports to. */
  budget: RequestBudget;
}

export class Connection<Request> implements BudgetMember {
  readonly socket: Socket;
  readonly label: string;
  private readonly driver: ProtocolDriver<Request>;
  private readonly options: ConnectionOptions;
  private waiting = false;
  private writeBlocked = false;
  private ending = false;
  private readonly queued: Buffer[] = [];
  private queuedBytes = 0;
  private requestTimer: NodeJS.Timeout | null = null;
  private readonly onClosed: (connection: Connection<Request>) => void;

  constructor(socket: Socket, driver: ProtocolDriver<Request>, options: ConnectionOptions, onClosed: (connection: Connection<Request>) => void) {
    this.socket = socket;
    this.driver = driver;
    this.options = options;
    this.onClosed = onClosed;
    this.label = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    if (options.idleTimeoutMs > 0) {
      socket.setTimeout(options.idleTimeoutMs, () => socket.destroy());
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.writeBlocked = false;
      this.updateReading();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.finish());
    driver.attach?.({
      socket,
      kill: () => socket.destroy(),
      bufferedBytes: () => this.driver.parser.retainedBytes + this.queuedBytes,
    });
  }

  private onData(chunk: Buffer): void {
    if (this.ending) return;
    if (this.waiting) {
      this.queued.push(chunk);
      this.queuedBytes += chunk.length;
      this.reportBuffered();
      return;
    }
    this.driver.parser.push(chunk);
    this.drain();
    this.reportBuffered();
  }

  /** Tell the server-wide budget what this connection's unfinished requests hold now. */
  private reportBuffered(): void {
    if (this.ending) return;
    this.options.budget.update(this, this.driver.parser.retainedBytes + this.queuedBytes);
  }

  /** The budget chose this connection to close: answer why, then close as after QUIT. */
  evict(): void {
    if (this.ending || this.socket.destroyed) return;
    this.driver.buffersFull();
    this.endAfterReplies();
  }

  /** Run every complete request the parser holds, then send the replies. */
  private drain(): void {
    while (!this.waiting && !this.ending) {
      let request: Request | null;
      try {
        request = this.driver.parser.next();
      } catch (error) {
        if (!isProtocolError(error)) throw error;
        this.driver.protocolError(error);
        this.endAfterReplies();
        return;
      }
      if (request === null) {
        const chunk = this.queued.shift();
        if (chunk === undefined) break;
        this.queuedBytes -= chunk.length;
        this.driver.parser.push(chunk);
        continue;
      }
      const pending = this.driver.execute(request);
      if (this.driver.closeRequested) {
        this.endAfterReplies();
        return;
      }
      if (pending !== undefined) {
        this.waiting = true;
        this.flush();
        this.updateReading();
        pending.then(
          () => this.resume(),
          (error: unknown) => {
            if (error instanceof InvariantError) throw error;
            this.options.logger.error(`a request failed unexpectedly: ${(error as Error).message}`);
            this.socket.destroy();
          },
        );
        return;
      }
    }
    this.flush();
    this.armRequestTimer();
  }

  private resume(): void {
    this.waiting = false;
    if (this.ending || this.socket.destroyed) return;
    if (this.driver.closeRequested) {
      this.endAfterReplies();
      return;
    }
    this.updateReading();
    this.drain();
    this.reportBuffered();
  }

  private flush(): void {
    const output = this.driver.output;
    if (output.pendingBytes === 0 || this.socket.destroyed) return;
    const bytes = output.take();
    const flushed = this.socket.write(bytes, () => output.release(bytes));
    if (!flushed && this.socket.writableLength > kWriteHighWaterBytes) {
      this.writeBlocked = true;
      this.updateReading();
    }
  }

  private updateReading(): void {
    if (this.socket.destroyed) return;
    if (this.waiting || this.writeBlocked) this.socket.pause();
    else this.socket.resume();
  }

  /** A half-sent request may not pin the connection (and its buffer) forever. */
  private armRequestTimer(): void {
    if (this.options.requestTimeoutMs <= 0) return;
    if (this.driver.parser.inRequest) {
      if (this.requestTimer === null) {
        this.requestTimer = setTimeout(() => this.socket.destroy(), this.options.requestTimeoutMs);
        this.requestTimer.unref();
      }
    } else if (this.requestTimer !== null) {
      clearTimeout(this.requestTimer);
      this.requestTimer = null;
    }
  }

  /**
   * The last reply is written (protocol error, QUIT): stop reading, send the replies and a FIN,
   * and destroy the socket once they are handed to the kernel. A half-close would leave the
   * socket reading (and discarding) whatever the client keeps sending until it closes its side.
   */
  private endAfterReplies(): void {
    this.ending = true;
    this.queued.length = 0;
    this.queuedBytes = 0;
    this.options.budget.release(this);
    this.socket.pause();
    this.flush();
    const destroy = (): void => {
      clearTimeout(timer);
      if (linger !== null) clearTimeout(linger);
      this.socket.destroy();
    };
    // A client that never reads may not hold the socket (and its unsent replies) for long.
    const timer = setTimeout(destroy, kCloseFlushTimeoutMs);
    timer.unref();
    let linger: NodeJS.Timeout | null = null;
    // Closing a socket that still has unread bytes (a client still sending) makes Linux send
    // a RST and drop whatever of our replies is still in the send queue (tcp_close with
    // data_was_unread): the RESP fuzz test saw a protocol error reply lost that way under load.
    // So after our FIN is out, wait for the client to close its side, or kCloseLingerMs.
    this.socket.once('finish', () => {
      linger = setTimeout(destroy, kCloseLingerMs);
      linger.unref();
    });
    this.socket.once('end', destroy);
    this.socket.end();
  }

  /** Stop: write nothing more, close the socket (server shutdown). */
  close(): void {
    this.ending = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }

  private finish(): void {
    if (this.requestTimer !== null) clearTimeout(this.requestTimer);
    this.requestTimer = null;
    this.ending = true;
    this.queued.length = 0;
    this.queuedBytes = 0;
    this.options.budget.release(this);
    this.driver.closed();
    this.onClosed(this);
  }
}
