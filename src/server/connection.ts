/**
 * One client connection, whatever the protocol: feeds socket chunks to the protocol's parser,
 * runs each complete request, and writes the replies of everything one read produced in a
 * single socket write.
 *
 * Guarantees:
 * - Requests run in order. A request that must wait (MKSNAP, a long LSKEYS) pauses this
 *   connection only: bytes that arrive meanwhile are queued, never parsed, so argument views
 *   stay valid until the request finishes; every other connection keeps being served.
 * - After a protocol error the error reply is written and the connection is closed (Skytable
 *   0.7 left the bad bytes in its buffer; a client could never recover anyway).
 * - Memory is bounded: reading pauses while the socket has more than kWriteHighWaterBytes
 *   unsent; a connection idle for `idleTimeoutMs` (when set) or holding a half-sent request for
 *   `requestTimeoutMs` is closed.
 * - An InvariantError from a request is not caught here: it means frostkv's own state is wrong,
 *   and the process must stop rather than keep serving.
 */

import type { Socket } from 'node:net';
import { isProtocolError, type ProtocolError } from '../protocol/limits.js';
import type { OutputBuffer } from '../protocol/output.js';
import { InvariantError } from '../util/assert.js';
import type { Logger } from '../util/log.js';

/** Stop reading while this much of our replies is still waiting in the socket. */
export const kWriteHighWaterBytes = 8 * 1024 * 1024;

export interface RequestParser<Request> {
  push(chunk: Uint8Array): void;
  next(): Request | null;
  readonly inRequest: boolean;
  trim(): void;
}

export interface ProtocolDriver<Request> {
  readonly parser: RequestParser<Request>;
  readonly output: OutputBuffer;
  /** Run one request, appending its replies; return a Promise when it has to wait. */
  execute(request: Request): void | Promise<void>;
  /** Append the reply to a protocol error (the connection closes after it is written). */
  protocolError(error: ProtocolError): void;
  /** Whether the driver asked to close after the replies written so far (QUIT). */
  readonly closeRequested: boolean;
  /** The connection is gone: release session state. */
  closed(): void;
}

export interface ConnectionOptions {
  idleTimeoutMs: number;
  requestTimeoutMs: number;
  logger: Logger;
}

export class Connection<Request> {
  readonly socket: Socket;
  private readonly driver: ProtocolDriver<Request>;
  private readonly options: ConnectionOptions;
  private waiting = false;
  private writeBlocked = false;
  private ending = false;
  private readonly queued: Buffer[] = [];
  private requestTimer: NodeJS.Timeout | null = null;
  private readonly onClosed: (connection: Connection<Request>) => void;

  constructor(socket: Socket, driver: ProtocolDriver<Request>, options: ConnectionOptions, onClosed: (connection: Connection<Request>) => void) {
    this.socket = socket;
    this.driver = driver;
    this.options = options;
    this.onClosed = onClosed;
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
  }

  private onData(chunk: Buffer): void {
    if (this.ending) return;
    if (this.waiting) {
      this.queued.push(chunk);
      return;
    }
    this.driver.parser.push(chunk);
    this.drain();
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

  private endAfterReplies(): void {
    this.ending = true;
    this.flush();
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
    this.driver.closed();
    this.onClosed(this);
  }
}
