/**
 * The TLS handshake gate in front of the TLS listeners: it turns an accepted TCP socket into a
 * TLS socket and hands it to the server only once the handshake is done.
 *
 * Guarantees:
 * - A connection that has not finished its handshake within kTlsHandshakeTimeoutMs (a client
 *   that connects and sends nothing, or stops half way) is destroyed; one that fails the
 *   handshake (plain Skyhash or RESP bytes sent to a TLS port, a client that rejects the
 *   certificate) is destroyed at once. Neither ever reaches a protocol driver.
 * - At most kTlsHandshakesPendingMax handshakes are in progress across all TLS listeners; past
 *   it a new socket is closed at once, so a flood of abandoned handshakes costs bounded memory
 *   and never delays connections already established. (Skytable 0.7 awaited each handshake
 *   inside its accept loop, so one silent client stalled every later TLS client.)
 * - Pending handshakes do not count towards `server.maxclient`: a client past it completes
 *   its handshake and then reads the protocol's "max clients" error over TLS, which it could
 *   not read before (admission.ts refuses after the handshake).
 */

import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';

/** A handshake takes one or two round trips; 10 s covers slow links and a loaded server. */
export const kTlsHandshakeTimeoutMs = 10_000;
/** Handshakes in progress at once; each holds an OpenSSL session (tens of KiB). */
export const kTlsHandshakesPendingMax = 1024;

export interface TlsGateHooks {
  /** The handshake is done: serve the connection. */
  secure(socket: TLSSocket): void;
  /** A socket was closed because too many handshakes were pending. */
  refused(): void;
}

export class TlsGate {
  private readonly pendingSockets = new Set<TLSSocket>();
  private closing = false;

  /** Handshakes in progress. */
  get pending(): number {
    return this.pendingSockets.size;
  }

  /** Start the handshake of a socket accepted on a TLS listener. */
  admit(raw: Socket, context: SecureContext, hooks: TlsGateHooks): void {
    if (this.closing || this.pendingSockets.size >= kTlsHandshakesPendingMax) {
      raw.destroy();
      if (!this.closing) hooks.refused();
      return;
    }
    const socket = new TLSSocket(raw, { isServer: true, secureContext: context });
    this.pendingSockets.add(socket);
    const timer = setTimeout(() => socket.destroy(), kTlsHandshakeTimeoutMs);
    timer.unref();
    const settle = (): void => {
      clearTimeout(timer);
      this.pendingSockets.delete(socket);
    };
    // Handshake failures are the client's problem, never logged: a scan of the port would
    // flood the log.
    const failed = (): void => {
      settle();
      socket.destroy();
    };
    socket.once('error', failed);
    socket.once('close', settle);
    socket.once('secure', () => {
      settle();
      socket.off('error', failed);
      socket.off('close', settle);
      hooks.secure(socket);
    });
  }

  /** Close every pending handshake and refuse new ones (shutdown). */
  close(): void {
    this.closing = true;
    for (const socket of this.pendingSockets) socket.destroy();
    this.pendingSockets.clear();
  }
}
