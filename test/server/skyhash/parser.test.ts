/**
 * The Skyhash 1.x request parser as the server runs it, over a real socket (docs/behaviour.md, Skyhash 1.x):
 * - a valid stream split at every byte (and a long one at seeded random points) gives the same
 *   reply bytes as the stream sent whole;
 * - seeded random and mutated frames are always either answered or the connection closed,
 *   never a hang or a crash, while another connection keeps being served;
 * - malformed requests get `*1\n!1\n4\n` (or `*1\n!1\n7\n` for a non-digit size) and the
 *   connection is closed;
 * - sizes and counts past the configured limits are refused as soon as they are seen, and
 *   announced sizes never make the server allocate.
 * Replay a randomized test with FROSTKV_SEED=<seed>.
 */

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, testSeed, withSeed } from '../../support/random.js';
import { SkyClient, pipeline, query, responseLength, type Arg } from '../../support/skyhash.js';
import type { InProcessServer } from '../../support/server.js';
import { bin, code, err, many, one, startServer, str, typed, uint } from './helpers.js';

/** Limits of the server that takes fuzzed and oversized input. */
const kSmallLimits = { requestMaxBytes: 4096, queryElementsMax: 16, pipelineQueriesMax: 8 };

let main: InProcessServer;
let small: InProcessServer;

beforeAll(async () => {
  [main, small] = await Promise.all([startServer({ limits: { requestTimeoutSeconds: 30 } }), startServer({ limits: { ...kSmallLimits, requestTimeoutSeconds: 1 } })]);
});

afterAll(async () => {
  await Promise.all([main.stop(), small.stop()]);
});

const PACKET_ERROR = '*1\n!1\n4\n';
const WRONG_TYPE = '*1\n!1\n7\n';

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A client with Nagle off, so each write leaves as its own segment as far as possible. */
async function rawClient(port: number): Promise<SkyClient> {
  const client = await SkyClient.connect(port);
  client.socket.setNoDelay(true);
  return client;
}

/** Read `count` complete responses and return their bytes concatenated. */
async function responses(client: SkyClient, count: number, timeoutMs = 10_000): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) parts.push(await client.response(timeoutMs));
  return Buffer.concat(parts);
}

/** Send `stream` in the pieces cut at `cuts` (sorted offsets), yielding between pieces. */
async function sendInPieces(client: SkyClient, stream: Buffer, cuts: readonly number[]): Promise<void> {
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    if (cut > from) client.send(stream.subarray(from, cut));
    from = cut;
    await tick();
  }
}

function showBytes(bytes: Buffer, max = 200): string {
  const text = JSON.stringify(bytes.subarray(0, max).toString('latin1'));
  return bytes.length > max ? `${text}... (${bytes.length} bytes)` : text;
}

// ------------------------------------------------------------------------------------------
// Valid streams split anywhere

/** A binary element with LF, NUL and protocol symbols inside. */
const kTricky = Buffer.concat([
  Buffer.from('\n*1\n~3\n'),
  Buffer.from([0, 255, 10, 10, 13, 10]),
  Buffer.alloc(200, '\n'),
  Buffer.from('\n3\nSET\n'),
]);

/** A short stream whose replies do not depend on earlier runs of it. */
const kShortRequests: Arg[][][] = [
  [['USET', 'k', 'v\nv']],
  [['USET', 'bin', kTricky], ['GET', 'bin'], ['EXISTS', 'k', 'bin', 'none']],
  [['GET', 'k']],
  [['DEL', 'k'], ['MGET', 'k', 'bin']],
  [['HEYA']],
];

function encode(requests: readonly Arg[][][]): Buffer {
  return Buffer.concat(requests.map((queries) => (queries.length === 1 ? query(...(queries[0] as Arg[])) : pipeline(...queries))));
}

const kShortStream = encode(kShortRequests);
const kShortExpected = Buffer.concat([
  Buffer.from(one(uint(1)), 'latin1'),
  Buffer.from(many(uint(1), bin(kTricky.toString('latin1')), uint(2)), 'latin1'),
  Buffer.from(one(bin('v\nv')), 'latin1'),
  Buffer.from(many(uint(1), typed('?', [null, kTricky.toString('latin1')])), 'latin1'),
  Buffer.from(one(str('HEY!')), 'latin1'),
]);

describe('valid streams split at any byte', () => {
  it('answers the short stream sent whole with the expected bytes', async () => {
    const client = await rawClient(main.port);
    client.send(kShortStream);
    expect((await responses(client, kShortRequests.length)).toString('latin1')).toBe(kShortExpected.toString('latin1'));
    client.close();
  });

  it('gives identical reply bytes for the short stream split at every byte position', async () => {
    const mismatches: string[] = [];
    for (let cut = 1; cut < kShortStream.length; cut++) {
      const client = await rawClient(main.port);
      await sendInPieces(client, kShortStream, [cut]);
      const got = await responses(client, kShortRequests.length);
      if (!got.equals(kShortExpected)) mismatches.push(`split at ${cut}: ${showBytes(got)}`);
      client.close();
    }
    expect(mismatches).toEqual([]);
  });

  it('gives identical reply bytes for the short stream sent one byte at a time', async () => {
    const client = await rawClient(main.port);
    await sendInPieces(
      client,
      kShortStream,
      Array.from({ length: kShortStream.length - 1 }, (_, i) => i + 1),
    );
    expect((await responses(client, kShortRequests.length)).equals(kShortExpected)).toBe(true);
    client.close();
  });

  it('gives identical reply bytes for a long seeded stream cut at random points', async () => {
    await withSeed(async (rng) => {
      console.info(`parser split test seed ${rng.seed} (replay with FROSTKV_SEED=${rng.seed})`);
      const keys = Array.from({ length: 10 }, (_, i) => Buffer.concat([Buffer.from(`k${i}`), rng.bytes(rng.int(4))]));
      const requests: Arg[][][] = [[['FLUSHDB']]];
      for (let i = 0; i < 150; i++) {
        const queries = rng.float() < 0.3 ? 2 + rng.int(6) : 1;
        requests.push(Array.from({ length: queries }, () => randomDeterministicQuery(rng, keys)));
      }
      const stream = encode(requests);
      // The reference: the whole stream in one write (FLUSHDB first makes every run start equal).
      const reference = await rawClient(main.port);
      reference.send(stream);
      const expected = await responses(reference, requests.length);
      reference.close();
      for (let trial = 0; trial < 12; trial++) {
        const cutCount = 1 + rng.int(40);
        const cuts = [...new Set(Array.from({ length: cutCount }, () => 1 + rng.int(stream.length - 1)))].sort((a, b) => a - b);
        const client = await rawClient(main.port);
        await sendInPieces(client, stream, cuts);
        const got = await responses(client, requests.length);
        client.close();
        if (!got.equals(expected)) {
          const at = firstDifference(got, expected);
          throw new Error(`trial ${trial} cut at [${cuts.join(',')}]: replies differ at byte ${at}: got ${showBytes(got.subarray(at))} expected ${showBytes(expected.subarray(at))}`);
        }
      }
    });
  });
});

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/** Element bytes: mostly short, sometimes large, always with some LF and symbol bytes inside. */
function randomElement(rng: Rng): Buffer {
  const roll = rng.float();
  const length = roll < 0.7 ? rng.int(12) : roll < 0.95 ? rng.int(400) : 2000 + rng.int(30_000);
  const bytes = rng.bytes(length);
  for (let i = 0; i < length; i += 1 + rng.int(16)) bytes[i] = rng.pick([0x0a, 0x0a, 0x2a, 0x7e, 0x00, 0x30]);
  return bytes;
}

/** A query on a binstr table whose reply depends only on the table state. */
function randomDeterministicQuery(rng: Rng, keys: readonly Buffer[]): Arg[] {
  const key = (): Buffer => rng.pick(keys);
  switch (rng.int(9)) {
    case 0:
      return ['USET', key(), randomElement(rng)];
    case 1:
      return ['SET', key(), randomElement(rng)];
    case 2:
      return ['GET', key()];
    case 3:
      return ['DEL', key(), key()];
    case 4:
      return ['EXISTS', key(), key(), key()];
    case 5:
      return ['MGET', key(), key()];
    case 6:
      return ['HEYA', randomElement(rng)];
    case 7:
      return ['KEYLEN', key()];
    default:
      return [randomElement(rng), key()];
  }
}

// ------------------------------------------------------------------------------------------
// Fuzz: random and mutated frames

/**
 * Send `frame` then LF filler longer than the server's request limit on a fresh connection,
 * and collect every byte until the server closes. The filler guarantees the server must end
 * the connection (a complete request cannot continue into LF bytes for long), so waiting for
 * the close cannot hang unless the server does.
 */
function sendUntilClosed(port: number, frame: Buffer, timeoutMs = 5_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket: Socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server neither answered nor closed within ${timeoutMs} ms; got ${showBytes(Buffer.concat(chunks))}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.on('connect', () => {
      socket.write(frame);
      socket.write(Buffer.alloc(kSmallLimits.requestMaxBytes + 64, 0x0a));
    });
  });
}

/** Split received bytes into complete responses; throws if they do not decompose. */
function splitResponses(bytes: Buffer): string[] {
  const out: string[] = [];
  let rest = bytes;
  while (rest.length > 0) {
    if (rest[0] !== 0x2a) throw new Error(`a response does not start with '*': ${showBytes(rest)}`);
    const length = responseLength(rest);
    if (length < 0) throw new Error(`an incomplete response before the close: ${showBytes(rest)}`);
    out.push(rest.subarray(0, length).toString('latin1'));
    rest = rest.subarray(length);
  }
  return out;
}

function randomValidFrame(rng: Rng): Buffer {
  const actions: Arg[][] = [
    ['HEYA'],
    ['GET', 'x'],
    ['SET', 'x', '1'],
    ['USET', 'a', 'b', 'c', 'd'],
    ['MGET', 'a', 'x', 'zz'],
    ['LSKEYS', '3'],
    ['DBSIZE'],
    ['EXISTS', 'a'],
    ['SYS', 'INFO', 'version'],
    ['WHEREAMI'],
  ];
  const count = 1 + rng.int(4);
  const queries = Array.from({ length: count }, () => {
    const base = [...rng.pick(actions)];
    if (rng.float() < 0.3) base.push(randomElement(rng).subarray(0, 64));
    return base;
  });
  return count === 1 ? query(...(queries[0] as Arg[])) : pipeline(...queries);
}

function mutate(rng: Rng, frame: Buffer): Buffer {
  let out = Buffer.from(frame);
  const rounds = 1 + rng.int(3);
  for (let r = 0; r < rounds; r++) {
    const at = out.length === 0 ? 0 : rng.int(out.length);
    switch (rng.int(9)) {
      case 0: // flip bits of a byte
        if (out.length > 0) out[at] = (out[at] as number) ^ (1 << rng.int(8));
        break;
      case 1: // a protocol-significant byte somewhere
        if (out.length > 0) out[at] = rng.pick([0x2a, 0x7e, 0x0a, 0x30, 0x39, 0x2d, 0x00, 0x2b, 0x3f, 0x21]);
        break;
      case 2: // delete a byte
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
        break;
      case 3: // insert a byte
        out = Buffer.concat([out.subarray(0, at), Buffer.from([rng.int(256)]), out.subarray(at)]);
        break;
      case 4: // truncate
        out = out.subarray(0, at);
        break;
      case 5: // duplicate a range
        out = Buffer.concat([out.subarray(0, at), out.subarray(rng.int(out.length + 1)), out.subarray(at)]);
        break;
      case 6: {
        // rewrite a number (a size or count) to something else
        const text = out.toString('latin1');
        const numbers = [...text.matchAll(/\d+/g)];
        const hit = numbers.length > 0 ? rng.pick(numbers) : undefined;
        if (hit !== undefined && hit.index !== undefined) {
          const value = rng.pick(['0', '1', String(Number(hit[0]) + 1), String(Math.max(0, Number(hit[0]) - 1)), '4096', '4097', '99999999999999999999', '-1', '']);
          out = Buffer.concat([out.subarray(0, hit.index), Buffer.from(value), out.subarray(hit.index + hit[0].length)]);
        }
        break;
      }
      case 7: // garbage appended
        out = Buffer.concat([out, rng.bytes(rng.int(20))]);
        break;
      default: // two frames glued with a mutated seam
        out = Buffer.concat([out, randomValidFrame(rng)]);
        break;
    }
  }
  return out;
}

describe('random and mutated frames', () => {
  it('always answers or closes, never hangs or crashes, and keeps serving another connection', async () => {
    await withSeed(async (rng) => {
      console.info(`parser fuzz seed ${rng.seed} (replay with FROSTKV_SEED=${rng.seed})`);
      const keeper = await rawClient(small.port);
      expect(await keeper.run('HEYA')).toBe(one(str('HEY!')));
      const frames: Buffer[] = [];
      for (let i = 0; i < 360; i++) {
        const roll = rng.float();
        if (roll < 0.75) frames.push(mutate(rng, randomValidFrame(rng)));
        else if (roll < 0.9) frames.push(Buffer.concat([Buffer.from('*'), rng.bytes(rng.int(40))]));
        else frames.push(rng.bytes(rng.int(64)));
      }
      const kLanes = 8;
      for (let i = 0; i < frames.length; i += kLanes) {
        const batch = frames.slice(i, i + kLanes);
        const replies = await Promise.all(batch.map((frame) => sendUntilClosed(small.port, frame)));
        for (const [j, reply] of replies.entries()) {
          const frame = batch[j] as Buffer;
          let parts: string[];
          try {
            parts = splitResponses(reply);
          } catch (error) {
            throw new Error(`frame ${i + j} ${showBytes(frame)}: ${(error as Error).message}`);
          }
          const last = parts.at(-1);
          if (last !== PACKET_ERROR && last !== WRONG_TYPE) {
            throw new Error(`frame ${i + j} ${showBytes(frame)}: the connection closed without a protocol error reply; got ${showBytes(reply)}`);
          }
        }
        if ((i / kLanes) % 10 === 0) expect(await keeper.run('HEYA')).toBe(one(str('HEY!')));
      }
      expect(await keeper.run('HEYA', 'still here')).toBe(one(str('still here')));
      const fresh = await rawClient(small.port);
      expect(await fresh.run('HEYA')).toBe(one(str('HEY!')));
      fresh.close();
      keeper.close();
    }, testSeed());
  });
});

// ------------------------------------------------------------------------------------------
// Malformed requests

const kMalformed: Array<{ name: string; bytes: string; reply: string | readonly string[] }> = [
  { name: 'a packet of zero queries (*0)', bytes: '*0\n', reply: PACKET_ERROR },
  { name: 'a query of zero elements (~0)', bytes: '*1\n~0\n', reply: PACKET_ERROR },
  { name: 'a pipeline whose second query has zero elements', bytes: '*2\n~1\n4\nHEYA\n~0\n', reply: PACKET_ERROR },
  { name: 'a non-digit query count', bytes: '*x\n', reply: WRONG_TYPE },
  { name: 'a query count with a trailing non-digit', bytes: '*1x\n', reply: WRONG_TYPE },
  { name: 'a negative query count', bytes: '*-1\n', reply: WRONG_TYPE },
  { name: 'a CR before the LF of a count', bytes: '*1\r\n~1\n4\nHEYA\n', reply: WRONG_TYPE },
  { name: 'a non-digit element count', bytes: '*1\n~a\n', reply: WRONG_TYPE },
  { name: 'a non-digit element length', bytes: '*1\n~1\nz\nHEYA\n', reply: WRONG_TYPE },
  { name: 'a negative element length', bytes: '*1\n~1\n-4\nHEYA\n', reply: WRONG_TYPE },
  { name: 'an empty query count', bytes: '*\n', reply: [PACKET_ERROR, WRONG_TYPE] },
  { name: 'an empty element length', bytes: '*1\n~1\n\nHEYA\n', reply: [PACKET_ERROR, WRONG_TYPE] },
  { name: 'a missing LF after an element', bytes: '*1\n~1\n4\nHEYAX', reply: PACKET_ERROR },
  { name: 'an element longer than its length', bytes: '*1\n~1\n3\nHEYA\n', reply: PACKET_ERROR },
  { name: 'a wrong leading byte for a packet', bytes: '+1\n~1\n4\nHEYA\n', reply: PACKET_ERROR },
  { name: 'a RESP command on the Skyhash port', bytes: '*1\r\n$4\r\nPING\r\n', reply: WRONG_TYPE },
  { name: 'an inline command', bytes: 'HEYA\n', reply: PACKET_ERROR },
  { name: 'a lone LF', bytes: '\n', reply: PACKET_ERROR },
  { name: 'a string element instead of an any-array', bytes: '*1\n+4\nHEYA\n', reply: PACKET_ERROR },
  { name: 'a typed array element instead of an any-array', bytes: '*1\n@+1\n4\nHEYA\n', reply: PACKET_ERROR },
  { name: 'a wrong leading byte in the second query of a pipeline', bytes: '*2\n~1\n4\nHEYA\n&1\n4\nHEYA\n', reply: PACKET_ERROR },
];

describe('malformed requests', () => {
  for (const { name, bytes, reply } of kMalformed) {
    it(`answers ${name} with ${JSON.stringify(reply)} and closes the connection`, async () => {
      const keeper = await rawClient(main.port);
      const client = await rawClient(main.port);
      client.send(Buffer.from(bytes, 'latin1'));
      const got = (await client.response(3_000)).toString('latin1');
      if (typeof reply === 'string') expect(got).toBe(reply);
      else expect(reply).toContain(got);
      await client.closedByServer();
      expect(client.pending.length).toBe(0);
      expect(await keeper.run('HEYA')).toBe(one(str('HEY!')));
      keeper.close();
    });
  }

  it('answers the valid requests before a malformed one, then the error, then closes', async () => {
    const client = await rawClient(main.port);
    client.send(Buffer.concat([query('HEYA'), pipeline(['HEYA', 'a'], ['HEYA', 'b']), Buffer.from('*0\n'), query('HEYA')]));
    expect((await client.response()).toString('latin1')).toBe(one(str('HEY!')));
    expect((await client.response()).toString('latin1')).toBe(many(str('a'), str('b')));
    expect((await client.response()).toString('latin1')).toBe(PACKET_ERROR);
    await client.closedByServer();
    expect(client.pending.length).toBe(0);
  });

  it('closes after a malformed request that follows earlier replies on the same connection', async () => {
    const client = await rawClient(main.port);
    expect(await client.run('HEYA')).toBe(one(str('HEY!')));
    client.send(Buffer.from('*1\n~1\n4\nHEYA!'));
    expect((await client.response()).toString('latin1')).toBe(PACKET_ERROR);
    await client.closedByServer();
  });

  it('answers a malformed request that arrives split across writes', async () => {
    const client = await rawClient(main.port);
    await sendInPieces(client, Buffer.from('*1\n~1\n4\nHEYAX'), [1, 3, 6, 9, 12]);
    expect((await client.response()).toString('latin1')).toBe(PACKET_ERROR);
    await client.closedByServer();
  });
});

// ------------------------------------------------------------------------------------------
// Limits

/** The request `USET k <value>` whose total size is exactly `total` bytes. */
function usetOfSize(total: number): Buffer {
  const head = '*1\n~3\n4\nUSET\n1\nk\n';
  for (let length = total; length > 0; length--) {
    const size = head.length + `${length}\n`.length + length + 1;
    if (size === total) return Buffer.concat([Buffer.from(`${head}${length}\n`), Buffer.alloc(length, 'v'), Buffer.from('\n')]);
  }
  throw new Error(`no USET request of exactly ${total} bytes`);
}

describe('limits', () => {
  async function refusedAtOnce(bytes: Buffer | string): Promise<void> {
    const client = await rawClient(small.port);
    client.send(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    // The announced bytes are never sent: the reply must come without them.
    expect((await client.response(2_000)).toString('latin1')).toBe(PACKET_ERROR);
    await client.closedByServer(2_000);
  }

  it(`serves a pipeline of pipelineQueriesMax (${kSmallLimits.pipelineQueriesMax}) queries and refuses one more at once`, async () => {
    const client = await rawClient(small.port);
    const queries = Array.from({ length: kSmallLimits.pipelineQueriesMax }, (_, i) => ['HEYA', `q${i}`]);
    client.send(pipeline(...queries));
    expect((await client.response()).toString('latin1')).toBe(many(...queries.map((q) => str(q[1] as string))));
    client.close();
    await refusedAtOnce(`*${kSmallLimits.pipelineQueriesMax + 1}\n`);
  });

  it(`serves a query of queryElementsMax (${kSmallLimits.queryElementsMax}) elements and refuses one more at once`, async () => {
    const client = await rawClient(small.port);
    const keys = Array.from({ length: kSmallLimits.queryElementsMax - 1 }, (_, i) => `none${i}`);
    expect(await client.run('EXISTS', ...keys)).toBe(one(uint(0)));
    client.close();
    await refusedAtOnce(`*1\n~${kSmallLimits.queryElementsMax + 1}\n`);
    await refusedAtOnce(`*2\n~1\n4\nHEYA\n~${kSmallLimits.queryElementsMax + 1}\n`);
  });

  it(`serves a request of exactly requestMaxBytes (${kSmallLimits.requestMaxBytes}) and refuses one byte more as soon as the size is seen`, async () => {
    const client = await rawClient(small.port);
    const atLimit = usetOfSize(kSmallLimits.requestMaxBytes);
    expect(atLimit.length).toBe(kSmallLimits.requestMaxBytes);
    client.send(atLimit);
    expect((await client.response()).toString('latin1')).toBe(one(uint(1)));
    client.close();
    const overLimit = usetOfSize(kSmallLimits.requestMaxBytes + 1);
    // Only the header and the size line: the server must not wait for the element's bytes.
    await refusedAtOnce(overLimit.subarray(0, overLimit.indexOf('v')));
  });

  it('refuses absurd sizes and counts at once', async () => {
    await refusedAtOnce('*1\n~1\n1073741824\n');
    await refusedAtOnce('*1\n~1\n99999999999999999999999999\n');
    await refusedAtOnce('*99999999999999999999\n');
    await refusedAtOnce('*1\n~18446744073709551616\n');
    await refusedAtOnce('*2\n~1\n4\nHEYA\n~1\n5000\n');
  });

  it('does not allocate memory for announced sizes that are never sent', async () => {
    const kConnections = 40;
    const kAnnouncedBytes = 100 * 1024 * 1024; // under main's requestMaxBytes (128 MiB)
    const keeper = await rawClient(main.port);
    expect(await keeper.run('HEYA')).toBe(one(str('HEY!')));
    const before = process.memoryUsage();
    const clients = await Promise.all(Array.from({ length: kConnections }, () => rawClient(main.port)));
    for (const [i, client] of clients.entries()) {
      // Announced but never sent: a huge element, the largest pipeline, the largest query.
      if (i % 4 === 0) client.send(Buffer.from('*65536\n~1\n4\nHEYA\n'));
      else if (i % 4 === 1) client.send(Buffer.from('*1\n~1048576\n3\nGET\n'));
      else client.send(Buffer.from(`*1\n~2\n3\nSET\n${kAnnouncedBytes}\npartial`));
    }
    // Let the server read every announcement.
    for (let i = 0; i < 20; i++) await tick();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await keeper.run('HEYA')).toBe(one(str('HEY!')));
    const after = process.memoryUsage();
    const growth = {
      rssBytes: after.rss - before.rss,
      arrayBuffersBytes: after.arrayBuffers - before.arrayBuffers,
    };
    // Allocating the announced sizes would be 4 GB; allow ordinary noise only.
    expect(growth.rssBytes, JSON.stringify(growth)).toBeLessThan(64 * 1024 * 1024);
    expect(growth.arrayBuffersBytes, JSON.stringify(growth)).toBeLessThan(32 * 1024 * 1024);
    for (const client of clients) expect(client.pending.length).toBe(0);
    for (const client of clients) client.close();
    keeper.close();
  });

  it('keeps memory flat while many connections send oversized announcements', async () => {
    const before = process.memoryUsage();
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        Array.from({ length: 40 }, async () => {
          const client = await rawClient(small.port);
          client.send(Buffer.from('*1\n~1\n999999999\n'));
          expect((await client.response(2_000)).toString('latin1')).toBe(PACKET_ERROR);
          await client.closedByServer(2_000);
        }),
      );
    }
    const after = process.memoryUsage();
    expect(after.rss - before.rss).toBeLessThan(64 * 1024 * 1024);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(32 * 1024 * 1024);
  });
});

describe('half-sent requests', () => {
  it('closes a connection whose request stays incomplete past limits.requestTimeoutSeconds', async () => {
    const client = await rawClient(small.port);
    const started = Date.now();
    client.send(Buffer.from('*1\n~2\n4\nHEYA\n100\nonly part'));
    await client.closedByServer(5_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(client.pending.length).toBe(0);
  });
});

describe('replies to valid requests around limits', () => {
  it('answers code and error elements with their exact lengths', async () => {
    const client = await rawClient(main.port);
    expect(await client.run('GET')).toBe(one(code(3)));
    expect(await client.run('NOPE')).toBe(one(err('Unknown action')));
    client.close();
  });
});
