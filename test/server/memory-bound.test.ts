/**
 * One bound on the request bytes all connections buffer together
 * (`limits.request_buffers_max_bytes`): past it the connection holding the most is answered an
 * error and closed, logged and counted in INFO; the others keep being served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { loadConfig } from '../../src/config/load.js';
import { RequestBudget } from '../../src/server/budget.js';
import { ServerStats } from '../../src/server/stats.js';
import { MemoryLogger } from '../../src/util/log.js';
import { startInProcess, type InProcessServer } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { peer } from '../support/peer.js';

const kMiB = 1024 * 1024;
const kRespBuffersFullText =
  'ERR request buffers full: all connections together hold more than limits.request_buffers_max_bytes of unfinished requests and this one holds the most';
const kSkyhashBuffersFullError = 'err-request-buffers-full';
const kBoundBytes = 24 * kMiB;
/** The values of the ordinary requests: whole, each fits the bound with room to spare. */
const kSmallValueBytes = 4 * kMiB;
/** The value the largest holder announces and sends 20 MiB of (its buffer grows to 32 MiB). */
const kLargeValueBytes = 60 * kMiB;
const kLargeSentBytes = 20 * kMiB;


function write(socket: Socket, bytes: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => socket.write(bytes, (error) => (error ? reject(error) : resolve())));
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const respHeader = (valueBytes: number): Buffer => Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${valueBytes}\r\n`);
const skyhashHeader = (valueBytes: number): Buffer => Buffer.from(`*1\n~3\n3\nSET\n1\ns\n${valueBytes}\n`);

describe('the bound on all connections\' request buffers', () => {
  let server: InProcessServer;
  beforeAll(async () => {
    server = await startInProcess({ limits: { requestBuffersMaxBytes: kBoundBytes } }, { resp: true });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('closes the connection holding the most with an error, logs and counts it, and keeps serving the others', async () => {
    const [small1, small2, large] = [await peer(server.respPort as number), await peer(server.respPort as number), await peer(server.respPort as number)];
    await write(small1.socket, Buffer.concat([respHeader(kSmallValueBytes), Buffer.alloc(kMiB, 0x61)]));
    await write(small2.socket, Buffer.concat([respHeader(kSmallValueBytes), Buffer.alloc(kMiB, 0x62)]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Together with the two others this goes past the bound; it holds the most.
    void write(large.socket, Buffer.concat([respHeader(kLargeValueBytes), Buffer.alloc(kLargeSentBytes, 0x63)])).catch(() => undefined);
    await large.closed;
    expect(large.text()).toBe(`-${kRespBuffersFullText}\r\n`);
    expect(small1.isClosed() || small2.isClosed()).toBe(false);
    expect(server.logger.has('warn', /^closing connection 127\.0\.0\.1:[0-9]+: it holds [0-9]+ bytes of unfinished requests/)).toBe(true);

    // The others finish their values and are answered as usual.
    await write(small1.socket, Buffer.concat([Buffer.alloc(kSmallValueBytes - kMiB, 0x61), Buffer.from('\r\n')]));
    await until(() => small1.text() === '+OK\r\n', 'the first SET');
    small2.socket.write(Buffer.concat([Buffer.alloc(kSmallValueBytes - kMiB, 0x62), Buffer.from('\r\nINFO stats\r\n')]));
    await until(() => small2.text().includes('evicted_clients:'), 'INFO');
    expect(small2.text()).toMatch(/^\+OK\r\n\$[0-9]+\r\n/);
    expect(small2.text()).toContain('evicted_clients:1\r\n');
    small1.socket.destroy();
    small2.socket.destroy();
  });

  it('answers Skyhash connections with an error element before the close', async () => {
    const [small, large] = [await peer(server.port), await peer(server.port)];
    await write(small.socket, Buffer.concat([skyhashHeader(kSmallValueBytes), Buffer.alloc(kMiB, 0x61)]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    void write(large.socket, Buffer.concat([skyhashHeader(kLargeValueBytes), Buffer.alloc(kLargeSentBytes, 0x63)])).catch(() => undefined);
    await large.closed;
    expect(large.text()).toBe(`*1\n!${kSkyhashBuffersFullError.length}\n${kSkyhashBuffersFullError}\n`);
    expect(small.isClosed()).toBe(false);
    expect(server.server.stats.clientsEvicted).toBe(2);
    small.socket.write(Buffer.concat([Buffer.alloc(kSmallValueBytes - kMiB, 0x61), Buffer.from('\n')]));
    await until(() => small.text() !== '', 'the SET');
    expect(small.text()).toBe('*1\n!1\n0\n');
    small.socket.destroy();
  });
});

describe('limits.request_buffers_max_bytes in the configuration', () => {
  it('defaults to 1 GiB, reads the file and the environment, and refuses values out of range with the key path', () => {
    const cwd = tempDir();
    expect(loadConfig({ argv: [], env: {}, cwd }).config.limits.requestBuffersMaxBytes).toBe(1024 * kMiB);
    const fromEnv = loadConfig({ argv: [], env: { SKY_LIMITS_REQUEST_BUFFERS_MAX_BYTES: String(64 * kMiB) }, cwd });
    expect(fromEnv.config.limits.requestBuffersMaxBytes).toBe(64 * kMiB);
    expect(() => loadConfig({ argv: [], env: { SKY_LIMITS_REQUEST_BUFFERS_MAX_BYTES: '1000' }, cwd })).toThrow(/limits\.request_buffers_max_bytes/);
    expect(() => loadConfig({ argv: [], env: { SKY_LIMITS_REQUEST_BUFFERS_MAX_BYTES: 'lots' }, cwd })).toThrow(/limits\.request_buffers_max_bytes/);
  });
});

describe('RequestBudget', () => {
  it('evicts the largest holders first, only until the total is within the bound, and forgets released members', () => {
    const logger = new MemoryLogger();
    const stats = new ServerStats();
    const budget = new RequestBudget(100, logger, stats);
    const evicted: string[] = [];
    const member = (label: string) => ({ label, evict: () => evicted.push(label) });
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(member) as [ReturnType<typeof member>, ReturnType<typeof member>, ReturnType<typeof member>, ReturnType<typeof member>];
    budget.update(a, 30);
    budget.update(b, 40);
    budget.update(c, 20);
    expect([budget.total, evicted]).toEqual([90, []]);
    budget.update(d, 50);
    expect([budget.total, evicted]).toEqual([90, ['d']]);
    budget.update(c, 25);
    budget.update(d, 10);
    // a 30 + b 40 + c 25 + d 10 = 105: only b, the largest, goes.
    expect([budget.total, evicted]).toEqual([65, ['d', 'b']]);
    budget.release(a);
    budget.update(c, 95);
    // c 95 + d 10 = 105: c goes, d stays.
    expect([budget.total, evicted]).toEqual([10, ['d', 'b', 'c']]);
    expect(stats.clientsEvicted).toBe(3);
    expect(logger.lines.filter((line) => line.level === 'warn')).toHaveLength(3);
  });
});
