/**
 * A connection ends as soon as its last reply is out: after a protocol error (on both
 * protocols) and after RESP QUIT the server stops reading and closes the socket, instead of
 * half-closing it and reading (and discarding) whatever the client keeps sending.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { startInProcess, type InProcessServer } from '../support/server.js';

/** Long enough for any reply on loopback; far below the 60 s request timeout it used to need. */
const kClosedWithinMs = 3_000;

interface Watched {
  socket: Socket;
  received(): Buffer;
  closed: Promise<number>;
}

/**
 * A raw socket that records what it receives and when the server closed it. It stays half-open
 * (keeps its side open and writing after the server's FIN), as the clients in the reports did:
 * only a server that really closes ends the connection.
 */
async function open(port: number): Promise<Watched> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {
    // A reset after the server closed is expected while the client is still writing.
  });
  const closed = new Promise<number>((resolve) => {
    const start = Date.now();
    socket.once('close', () => resolve(Date.now() - start));
  });
  // After the server's FIN, keep writing: a server that really closed answers with a reset (and
  // the socket closes); one that only half-closed keeps accepting the bytes.
  socket.once('end', () => {
    const probe = setInterval(() => {
      if (socket.destroyed) clearInterval(probe);
      else socket.write('PING\r\n');
    }, 20);
  });
  return {
    socket,
    received: () => Buffer.concat(chunks),
    closed,
  };
}

/** Write `first`, then keep writing 64 KiB chunks as fast as the socket accepts them until it closes. */
function flood(watched: Watched, first: Buffer): { sent(): number } {
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  let sent = first.length;
  let stopped = false;
  void watched.closed.then(() => {
    stopped = true;
  });
  watched.socket.write(first);
  const pump = (): void => {
    while (!stopped && !watched.socket.destroyed) {
      sent += chunk.length;
      if (!watched.socket.write(chunk)) {
        watched.socket.once('drain', pump);
        return;
      }
    }
  };
  pump();
  return { sent: () => sent };
}

async function closedWithin(watched: Watched, ms: number): Promise<number> {
  const timeout = new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`the server did not close the connection within ${ms} ms`)), ms));
  return Promise.race([watched.closed, timeout]);
}

async function connectionsDropTo(server: InProcessServer, count: number): Promise<void> {
  const deadline = Date.now() + kClosedWithinMs;
  while (server.server.connectionCount !== count) {
    if (Date.now() > deadline) throw new Error(`the server still counts ${server.server.connectionCount} connections`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('closing after the last reply', () => {
  let server: InProcessServer;
  beforeAll(async () => {
    server = await startInProcess({}, { resp: true });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('RESP: after a protocol error the server stops reading a client that keeps sending and closes the socket', async () => {
    const client = await open(server.respPort as number);
    const writer = flood(client, Buffer.from('*\x00'));
    await closedWithin(client, kClosedWithinMs);
    expect(client.received().toString('latin1')).toBe('-ERR Protocol error: too big mbulk count string\r\n');
    // Reading stopped: what got through is what the kernel buffers held, not an endless stream.
    expect(writer.sent()).toBeLessThan(64 * 1024 * 1024);
    await connectionsDropTo(server, 0);
  });

  it('RESP: QUIT answers +OK and the server closes the connection itself', async () => {
    const client = await open(server.respPort as number);
    client.socket.write('PING\r\nQUIT\r\nPING\r\n');
    await closedWithin(client, kClosedWithinMs);
    expect(client.received().toString('latin1')).toBe('+PONG\r\n+OK\r\n');
    await connectionsDropTo(server, 0);
  });

  it('RESP: inline unbalanced quotes get Redis\'s text, then the close', async () => {
    const client = await open(server.respPort as number);
    client.socket.write('SET "k v\r\n');
    await closedWithin(client, kClosedWithinMs);
    expect(client.received().toString('latin1')).toBe('-ERR Protocol error: unbalanced quotes in request\r\n');
  });

  it('RESP: a bulk header without $ gets Redis\'s text, then the close', async () => {
    const client = await open(server.respPort as number);
    const writer = flood(client, Buffer.from('*2\r\n$4\r\nPING\r\nx'));
    await closedWithin(client, kClosedWithinMs);
    expect(client.received().toString('latin1')).toBe("-ERR Protocol error: expected '$', got 'x'\r\n");
    expect(writer.sent()).toBeLessThan(64 * 1024 * 1024);
  });

  it('Skyhash: after a packet error the server stops reading a client that keeps sending and closes the socket', async () => {
    const client = await open(server.port);
    const writer = flood(client, Buffer.from('*0\n'));
    await closedWithin(client, kClosedWithinMs);
    expect(client.received().toString('latin1')).toBe('*1\n!1\n4\n');
    expect(writer.sent()).toBeLessThan(64 * 1024 * 1024);
    await connectionsDropTo(server, 0);
  });
});
