/**
 * Clients the RESP tests share: ioredis and node-redis connected to a test server without
 * retries (a failure must show, not be retried away), and the text of an expected error reply.
 */

import { Redis } from 'ioredis';
import { createClient } from 'redis';

export function ioredis(port: number): Redis {
  return new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
}

export async function nodeRedis(port: number, resp: 2 | 3) {
  const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, RESP: resp });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** The message of the error `pending` rejects with; fails if it resolves. */
export async function errorOf(pending: Promise<unknown>): Promise<string> {
  try {
    const value = await pending;
    throw new Error(`expected an error reply, got ${JSON.stringify(value)}`);
  } catch (error) {
    if ((error as Error).message.startsWith('expected an error reply')) throw error;
    return (error as Error).message;
  }
}
