import { describe, expect, it } from 'vitest';
import { InvariantError } from '../../../src/util/assert.js';
import { ProtocolError, ProtocolErrorCode, type ProtocolLimits } from '../../../src/protocol/limits.js';
import { kInputInitialBytes, kInputRetainBytes } from '../../../src/protocol/reader.js';
import { SkyhashParser } from '../../../src/protocol/skyhash/parser.js';
import { withSeed } from '../../support/random.js';
import {
  encodeSkyhash,
  everyByte,
  feed,
  hex,
  kDefaultLimits,
  mutate,
  randomCuts,
  randomSkyhashRequest,
  skyhashDriver,
  type Arg,
} from '../helpers.js';

const b = (text: string) => Buffer.from(text, 'latin1');

function parseAll(stream: Buffer, limits: ProtocolLimits = kDefaultLimits) {
  const driver = skyhashDriver(limits);
  driver.push(stream);
  return driver.drain();
}

function errorOf(stream: Buffer | string, limits: ProtocolLimits = kDefaultLimits): ProtocolError {
  const parser = new SkyhashParser(limits);
  parser.push(typeof stream === 'string' ? b(stream) : stream);
  try {
    while (parser.next() !== null);
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return error as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

const corpus: { name: string; requests: Arg[][][] }[] = [
  { name: 'a simple query', requests: [[['SET', 'x', '100']]] },
  { name: 'a pipeline', requests: [[['SET', 'x', '100'], ['GET', 'x'], ['HEYA']]] },
  { name: 'requests back to back', requests: [[['GET', 'a']], [['DEL', 'a', 'b', 'c']], [['SET', 'k', 'v']]] },
  { name: 'empty elements', requests: [[['SET', '', '']], [[''], ['GET', '']]] },
  {
    name: 'binary bytes, newlines and CRs inside elements',
    requests: [[['SET', b('\n\n\r\n*1\n~1\n'), Buffer.from([0, 1, 2, 255, 10, 13, 0x2a])]]],
  },
  { name: 'a large element', requests: [[['SET', 'big', Buffer.alloc(3000, 'z')], ['GET', 'big']]] },
  { name: 'digit-only elements', requests: [[['1', '10', '100\n']]] },
];

describe('Skyhash parser: valid streams', () => {
  it('parses the documented example into SET x 100', () => {
    const driver = skyhashDriver();
    driver.push(b('*1\n~3\n3\nSET\n1\nx\n3\n100\n'));
    const request = driver.parser.next();
    expect(request).not.toBeNull();
    expect(request!.count).toBe(1);
    expect(request!.isPipeline).toBe(false);
    const query = request!.query(0);
    expect(query.count).toBe(3);
    expect(query.argString(0)).toBe('SET');
    expect(query.argIs(0, 'set')).toBe(true);
    expect(query.argIs(0, 'SeT')).toBe(true);
    expect(query.argIs(0, 'SETX')).toBe(false);
    expect(query.argIs(1, 'X')).toBe(true);
    expect(query.argIs(3, 'SET')).toBe(false);
    expect(query.arg(2).toString()).toBe('100');
    expect(query.buffer.subarray(query.offset(2), query.offset(2) + query.length(2)).toString()).toBe('100');
    expect(driver.parser.next()).toBeNull();
  });

  it('exposes each query of a pipeline as its own view', () => {
    const driver = skyhashDriver();
    driver.push(encodeSkyhash([['SET', 'x', '1'], ['GET', 'x'], ['DEL', 'x']]));
    const request = driver.parser.next()!;
    expect(request.count).toBe(3);
    expect(request.isPipeline).toBe(true);
    const views = [request.query(0), request.query(1), request.query(2)];
    expect(views.map((view) => view.argString(0))).toEqual(['SET', 'GET', 'DEL']);
    expect(views.map((view) => view.count)).toEqual([3, 2, 2]);
    expect(() => request.query(3)).toThrow(InvariantError);
  });

  it('refuses argument indexes outside the view as a caller bug', () => {
    const driver = skyhashDriver();
    driver.push(encodeSkyhash([['GET', 'x']]));
    const query = driver.parser.next()!.query(0);
    expect(() => query.offset(2)).toThrow(InvariantError);
    expect(() => query.length(-1)).toThrow(InvariantError);
    expect(() => query.arg(5)).toThrow(InvariantError);
  });

  for (const { name, requests } of corpus) {
    const stream = Buffer.concat(requests.map((request) => encodeSkyhash(request)));
    const expected = hex(requests);

    it(`parses ${name} in one chunk`, () => {
      expect(hex(parseAll(stream))).toEqual(expected);
    });

    it(`parses ${name} split at every byte position`, () => {
      for (const cut of everyByte(stream.length)) {
        const { results, error } = feed(skyhashDriver(), stream, [cut]);
        expect(error).toBeNull();
        expect(hex(results), `split at ${cut}`).toEqual(expected);
      }
    });

    it(`parses ${name} fed one byte at a time`, () => {
      const { results, error } = feed(skyhashDriver(), stream, everyByte(stream.length));
      expect(error).toBeNull();
      expect(hex(results)).toEqual(expected);
    });
  }

  it('parses a 4 MiB element arriving in 64-byte chunks without rescanning it', () => {
    const value = Buffer.alloc(4 * 1024 * 1024, 0x0a);
    const stream = encodeSkyhash([['SET', 'k', value]]);
    const driver = skyhashDriver();
    const results: Buffer[][][] = [];
    for (let at = 0; at < stream.length; at += 64) {
      driver.push(stream.subarray(at, at + 64));
      results.push(...driver.drain());
    }
    expect(results).toHaveLength(1);
    expect(results[0]![0]![2]!.equals(value)).toBe(true);
  });

  it('keeps a partial request intact after the caller reuses the chunk it pushed', () => {
    const stream = encodeSkyhash([['SET', 'key', 'value']]);
    const parser = new SkyhashParser(kDefaultLimits);
    const chunk = Buffer.from(stream.subarray(0, 12));
    expect(parser.inRequest).toBe(false);
    parser.push(chunk);
    expect(parser.next()).toBeNull();
    expect(parser.inRequest).toBe(true);
    chunk.fill(0x41);
    parser.push(stream.subarray(12));
    expect(parser.next()!.query(0).toBuffers().map(String)).toEqual(['SET', 'key', 'value']);
    expect(parser.next()).toBeNull();
    expect(parser.inRequest).toBe(false);
  });

  it('parses from a plain Uint8Array chunk with a byte offset', () => {
    const stream = encodeSkyhash([['GET', 'x']]);
    const backing = new Uint8Array(stream.length + 10);
    backing.set(stream, 5);
    const parser = new SkyhashParser(kDefaultLimits);
    parser.push(new Uint8Array(backing.buffer, 5, stream.length));
    expect(parser.next()!.query(0).toBuffers().map(String)).toEqual(['GET', 'x']);
  });

  it('lets go of a large receive buffer once the request that needed it is consumed', () => {
    const big = encodeSkyhash([['SET', 'k', Buffer.alloc(1024 * 1024, 1)]]);
    const parser = new SkyhashParser(kDefaultLimits);
    for (let at = 0; at < big.length; at += 1000) {
      parser.push(big.subarray(at, at + 1000));
      while (parser.next() !== null);
    }
    expect(parser.pendingBytes).toBe(0);
    expect(parser.retainedBytes).toBeLessThanOrEqual(kInputRetainBytes + 4096);
    parser.trim();
    expect(parser.retainedBytes).toBeLessThan(4096);
  });
});

describe('Skyhash parser: malformed input', () => {
  const cases: { stream: string; code: string; responseCode: number }[] = [
    { stream: '*0\n', code: ProtocolErrorCode.empty, responseCode: 4 },
    { stream: '*1\n~0\n', code: ProtocolErrorCode.empty, responseCode: 4 },
    { stream: '*2\n~1\n1\na\n~0\n', code: ProtocolErrorCode.empty, responseCode: 4 },
    { stream: '*x\n', code: ProtocolErrorCode.badSize, responseCode: 7 },
    { stream: '*1\n~1x\n', code: ProtocolErrorCode.badSize, responseCode: 7 },
    { stream: '*1\n~1\nabc\n', code: ProtocolErrorCode.badSize, responseCode: 7 },
    { stream: '*1\n~1\n-1\n', code: ProtocolErrorCode.badSize, responseCode: 7 },
    { stream: '*1\n~1\n3\r\nabc\n', code: ProtocolErrorCode.badSize, responseCode: 7 },
    { stream: '$1\n~1\n1\na\n', code: ProtocolErrorCode.framing, responseCode: 4 },
    { stream: '*1\n+1\n1\na\n', code: ProtocolErrorCode.framing, responseCode: 4 },
    { stream: '*1\n~1\n3\nabcd\n', code: ProtocolErrorCode.framing, responseCode: 4 },
    { stream: '*1\n~1\n\n', code: ProtocolErrorCode.framing, responseCode: 4 },
    { stream: '*\n', code: ProtocolErrorCode.framing, responseCode: 4 },
    { stream: '\n', code: ProtocolErrorCode.framing, responseCode: 4 },
    { stream: '*1\n~1\n1\na\n*1\n~2\n1\na\n1\nbX', code: ProtocolErrorCode.framing, responseCode: 4 },
  ];

  for (const { stream, code, responseCode } of cases) {
    it(`refuses ${JSON.stringify(stream)} with ${code} (Skyhash code ${responseCode}), whatever the chunking`, () => {
      const error = errorOf(stream);
      expect(error.code).toBe(code);
      expect(error.responseCode).toBe(responseCode);
      const bytewise = feed(skyhashDriver(), b(stream), everyByte(stream.length));
      expect(bytewise.error?.code).toBe(code);
    });
  }

  it('returns the requests before a malformed one, then fails', () => {
    const { results, error } = feed(skyhashDriver(), b('*1\n~1\n1\na\n*0\n'), []);
    expect(results).toEqual([[[b('a')]]]);
    expect(error?.code).toBe(ProtocolErrorCode.empty);
  });

  it('stays failed after an error: next() throws the same error and pushes are ignored', () => {
    const parser = new SkyhashParser(kDefaultLimits);
    parser.push(b('*0\n'));
    let first: unknown;
    try {
      parser.next();
    } catch (error) {
      first = error;
    }
    expect(first).toBeInstanceOf(ProtocolError);
    parser.push(encodeSkyhash([['GET', 'x']]));
    expect(() => parser.next()).toThrow(first as Error);
    expect(parser.pendingBytes).toBe(0);
  });
});

describe('Skyhash parser: limits', () => {
  const small: ProtocolLimits = { requestMaxBytes: 64, queryElementsMax: 3, pipelineQueriesMax: 2 };

  it('accepts a pipeline at pipelineQueriesMax and refuses one past it', () => {
    expect(parseAll(encodeSkyhash([['a'], ['b']]), small)).toHaveLength(1);
    const error = errorOf(encodeSkyhash([['a'], ['b'], ['c']]), small);
    expect(error.code).toBe(ProtocolErrorCode.tooLarge);
    expect(error.responseCode).toBe(4);
  });

  it('accepts a query at queryElementsMax and refuses one past it', () => {
    expect(parseAll(encodeSkyhash([['a', 'b', 'c']]), small)).toHaveLength(1);
    expect(errorOf(encodeSkyhash([['a', 'b', 'c', 'd']]), small).code).toBe(ProtocolErrorCode.tooLarge);
  });

  it('accepts a request of exactly requestMaxBytes and refuses one byte more', () => {
    // `*1\n~1\n54\n` is 9 bytes, then 54 element bytes and their `\n`.
    const fits = encodeSkyhash([['v'.repeat(54)]]);
    expect(fits.length).toBe(64);
    expect(parseAll(fits, small)).toHaveLength(1);
    const over = encodeSkyhash([['v'.repeat(55)]]);
    expect(over.length).toBe(65);
    expect(errorOf(over, small).code).toBe(ProtocolErrorCode.tooLarge);
  });

  it('counts the whole pipeline against requestMaxBytes', () => {
    const error = errorOf(encodeSkyhash([['v'.repeat(30)], ['w'.repeat(30)]]), small);
    expect(error.code).toBe(ProtocolErrorCode.tooLarge);
  });

  it('refuses a 10 GiB element as soon as its size line is too long, before the bytes arrive', () => {
    const parser = new SkyhashParser(kDefaultLimits);
    parser.push(b('*1\n~2\n3\nSET\n1073741824'));
    expect(() => parser.next()).toThrow(expect.objectContaining({ code: ProtocolErrorCode.tooLarge }));
  });

  it('refuses a 40-digit size and 1e15 bytes immediately, holding no more memory than a small request', () => {
    for (const size of ['9'.repeat(40), '1000000000000000', '134217728']) {
      const parser = new SkyhashParser(kDefaultLimits);
      parser.push(b(`*1\n~1\n${size}\n`));
      expect(() => parser.next(), size).toThrow(expect.objectContaining({ code: ProtocolErrorCode.tooLarge }));
      expect(parser.retainedBytes).toBeLessThan(kInputInitialBytes);
    }
  });

  it('refuses counts with too many digits before their line ends', () => {
    for (const header of ['*1000000', '*1\n~10000000', '*1\n~00000000001']) {
      expect(errorOf(header).code, header).toBe(ProtocolErrorCode.tooLarge);
    }
  });

  it('allocates nothing from an announced count: positions grow only with elements received', () => {
    const parser = new SkyhashParser(kDefaultLimits);
    parser.push(b(`*65536\n~1048576\n1\na\n`));
    expect(parser.next()).toBeNull();
    // The partial request sits in the first (fixed-size) receive storage; positions stay tiny.
    expect(parser.retainedBytes).toBeLessThanOrEqual(kInputInitialBytes + 1024);
  });
});

describe('Skyhash parser: seeded fuzzing', () => {
  it('parses random valid streams identically whatever the chunking', async () => {
    await withSeed((rng) => {
      for (let round = 0; round < 150; round++) {
        const requests = Array.from({ length: 1 + rng.int(4) }, () => randomSkyhashRequest(rng));
        const stream = Buffer.concat(requests.map((request) => encodeSkyhash(request)));
        const { results, error } = feed(skyhashDriver(), stream, randomCuts(rng, stream.length, 1 + rng.int(64)));
        expect(error, `round ${round}`).toBeNull();
        expect(hex(results), `round ${round}`).toEqual(hex(requests));
      }
    });
  });

  it('answers mutated streams only with requests, "need more" or a coded ProtocolError, within the limits', async () => {
    const limits: ProtocolLimits = { requestMaxBytes: 4096, queryElementsMax: 8, pipelineQueriesMax: 8 };
    const codes = new Set<string>(Object.values(ProtocolErrorCode));
    await withSeed((rng) => {
      let errors = 0;
      for (let round = 0; round < 1500; round++) {
        const requests = Array.from({ length: 1 + rng.int(3) }, () => randomSkyhashRequest(rng));
        let stream: Buffer = Buffer.concat(requests.map((request) => encodeSkyhash(request)));
        const mutations = 1 + rng.int(3);
        for (let i = 0; i < mutations; i++) stream = mutate(rng, stream);
        const driver = skyhashDriver(limits);
        const maxChunk = 1 + rng.int(512);
        const { error } = feed(driver, stream, randomCuts(rng, stream.length, maxChunk), () => {
          expect(driver.pendingBytes).toBeLessThanOrEqual(limits.requestMaxBytes + 16);
          expect(driver.retainedBytes).toBeLessThanOrEqual(kInputInitialBytes + 8 * (limits.requestMaxBytes + 512));
        });
        if (error !== null) {
          errors++;
          expect(codes.has(error.code), error.code).toBe(true);
          expect([4, 7]).toContain(error.responseCode);
          expect(() => driver.drain()).toThrow(error);
        }
      }
      expect(errors).toBeGreaterThan(100);
    });
  });
});
