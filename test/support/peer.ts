/**
 * A raw TCP peer for server tests: connects, keeps every byte the server sends, and knows when
 * the server closed the connection. For tests that watch what a server does to a socket
 * (refusals, evictions, closes), not for parsing replies.
 */
import { connect, type Socket } from 'node:net';

export interface Peer {
  socket: Socket;
  /** Everything received so far, as latin1. */
  text(): string;
  /** Resolves when the socket closes. */
  closed: Promise<void>;
  isClosed(): boolean;
}

export async function peer(port: number): Promise<Peer> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let closed = false;
  return {
    socket,
    text: () => Buffer.concat(chunks).toString('latin1'),
    closed: new Promise<void>((resolve) => socket.once('close', () => ((closed = true), resolve()))),
    isClosed: () => closed,
  };
}
