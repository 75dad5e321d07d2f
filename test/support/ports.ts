/**
 * Ephemeral loopback ports for servers that tests and benches start. Imports nothing from
 * vitest, so the kill -9 harness and the benches use it too.
 *
 * Guarantees: each port was free a moment ago, and no port is handed out twice by one process:
 * asking the kernel twice in a row can return the same port (the probe is closed before the
 * server binds it), which once gave a server the same port for Skyhash and RESP and made it
 * refuse to start (2 of 900 kill -9 trials).
 */

import { createServer } from 'node:net';

const handedOut = new Set<number>();
/** Probes before giving up: the kernel repeating a port this often means something else is wrong. */
const kProbesMax = 64;

function probe(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < kProbesMax; attempt++) {
    const port = await probe();
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no new free port after ${kProbesMax} probes`);
}
