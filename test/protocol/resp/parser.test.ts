import { describe, expect, it } from 'vitest';
import { ProtocolError, ProtocolErrorCode, type ProtocolLimits } from '../../../src/protocol/limits.js';
import { kInputInitialBytes } from '../../../src/protocol/reader.js';
import { kInlineMaxBytes, RespErrorText, RespParser } from '../../../src/protocol/resp/parser.js';
import { withSeed } from '../../support/random.js';
import {
  encodeInline,
  encodeResp,
  everyByte,
  feed,
  hex,
  kDefaultLimits,
  mutate,
  randomCuts,
  randomElement,
  randomInlineArgs,
  respDriver,
  type Arg,
} from '../helpers.js';

const b = (text: string) => Buffer.from(text, 'latin1');
/** Expected commands, as the driver reports them (one "query" per command). */
const commands = (...list: Arg[][]) => hex(list.map((args) => [args]));

function parseAll(stream: Buffer | string, limits: ProtocolLimits = kDefaultLimits): string[][][] {
  const driver = respDriver(limits);
  driver.push(typeof stream === 'string' ? b(stream) : stream);
  return hex(driver.drain());
}

function errorOf(stream: Buffer | string, limits: ProtocolLimits = kDefaultLimits): ProtocolError {
  const { error } = feed(respDriver(limits), typeof stream === 'string' ? b(stream) : stream, []);
  if (error === null) throw new Error('expected a ProtocolError');
  return error;
}

describe('RESP parser: multibulk', () => {
  it('parses a command and exposes its arguments without copying', () => {
    const parser = new RespParser(kDefaultLimits);
    const stream = encodeResp(['SET', 'key:1', 'value']);
    parser.push(stream);
    const command = parser.next()!;
    expect(command.count).toBe(3);
    expect(command.argIs(0, 'set')).toBe(true);
    expect(command.argString(1)).toBe('key:1');
    expect(command.buffer).toBe(stream);
    expect(command.offset(2)).toBe(stream.indexOf('value'));
    expect(command.length(2)).toBe(5);
    expect(parser.next()).toBeNull();
  });

  it('parses pipelined commands arriving in one chunk, in order', () => {
    const stream = Buffer.concat([encodeResp(['SET', 'a', '1']), encodeResp(['GET', 'a']), encodeResp(['PING'])]);
    expect(parseAll(stream)).toEqual(commands(['SET', 'a', '1'], ['GET', 'a'], ['PING']));
  });

  it('keeps binary bytes, CRLF and empty arguments inside bulks', () => {
    const value = Buffer.from([0, 13, 10, 36, 42, 255, 13, 10]);
    expect(parseAll(encodeResp(['SET', value, '']))).toEqual(commands(['SET', value, '']));
  });

  it('skips *0 and *-1 as Redis does', () => {
    expect(parseAll(`*0\r\n*-1\r\n${encodeResp(['PING']).toString()}*-5\r\n`)).toEqual(commands(['PING']));
  });
});

describe('RESP parser: inline commands', () => {
  const cases: { line: string; args: Arg[] }[] = [
    { line: 'PING\r\n', args: ['PING'] },
    { line: 'PING\n', args: ['PING'] },
    { line: '  SET  key\tvalue  \r\n', args: ['SET', 'key', 'value'] },
    { line: 'GET\ra\n', args: ['GET', 'a'] },
    { line: '\x0bGET a\x0b\n', args: ['GET', 'a\x0b'] },
    { line: 'SET "a b" c\r\n', args: ['SET', 'a b', 'c'] },
    { line: 'SET "\\x41\\x4a\\n\\r\\t\\b\\a\\"\\\\\\z" x\n', args: ['SET', 'AJ\n\r\t\b\x07"\\z', 'x'] },
    { line: 'SET "\\xZZ" x\n', args: ['SET', 'xZZ', 'x'] },
    { line: "SET 'it\\'s' '\\n'\n", args: ['SET', "it's", '\\n'] },
    { line: 'SET "" \'\'\n', args: ['SET', '', ''] },
    { line: 'SET ab"c d" e\n', args: ['SET', 'abc d', 'e'] },
    { line: 'ECHO "quoted"\r\n', args: ['ECHO', 'quoted'] },
  ];

  for (const { line, args } of cases) {
    it(`splits ${JSON.stringify(line)} as Redis does`, () => {
      expect(parseAll(line)).toEqual(commands(args));
    });
  }

  it('keeps a NUL in an inline line as an ordinary byte (Redis 7 would wait for more forever)', () => {
    expect(parseAll('SET k a\0b "c\0d"\n')).toEqual(commands(['SET', 'k', 'a\0b', 'c\0d']));
  });

  it('skips empty and blank lines', () => {
    expect(parseAll('\r\n\n   \r\n\t\nPING\r\n\r\n')).toEqual(commands(['PING']));
  });

  it('parses redis-benchmark style PING_INLINE pipelines', () => {
    expect(parseAll('PING\r\n'.repeat(16))).toEqual(commands(...Array.from({ length: 16 }, () => ['PING'])));
  });

  it('unescapes quoted words in place without disturbing the commands after them', () => {
    const stream = Buffer.concat([b('SET "k\\x00" "v\\n"\r\n'), encodeResp(['GET', 'k']), b("ECHO 'x y'\n")]);
    expect(parseAll(stream)).toEqual(commands(['SET', 'k\0', 'v\n'], ['GET', 'k'], ['ECHO', 'x y']));
  });

  const unbalanced = ['GET "abc\r\n', "GET 'abc\n", 'GET "a"b\n', "GET 'a'b\n", 'GET "abc\\"\n'];
  for (const line of unbalanced) {
    it(`refuses ${JSON.stringify(line)} with Redis's unbalanced quotes error`, () => {
      const error = errorOf(line);
      expect(error.code).toBe(ProtocolErrorCode.unbalancedQuotes);
      expect(error.message).toBe('Protocol error: unbalanced quotes in request');
    });
  }

  it(`accepts an inline line of ${kInlineMaxBytes} bytes and refuses one byte more`, () => {
    const word = 'x'.repeat(kInlineMaxBytes - 5);
    expect(parseAll(`ECHO ${word}\r\n`)).toEqual(commands(['ECHO', word]));
    const error = errorOf(`ECHO ${word}y\r\n`);
    expect(error.code).toBe(ProtocolErrorCode.tooLarge);
    expect(error.message).toBe('Protocol error: too big inline request');
  });

  it('refuses an overlong inline line before its end arrives', () => {
    const parser = new RespParser(kDefaultLimits);
    parser.push(b('x'.repeat(kInlineMaxBytes + 1)));
    expect(parser.next()).toBeNull();
    parser.push(b('x'));
    expect(() => parser.next()).toThrow(RespErrorText.tooBigInline);
  });

  it('bounds inline lines by requestMaxBytes when that is smaller', () => {
    const limits: ProtocolLimits = { requestMaxBytes: 16, queryElementsMax: 3, pipelineQueriesMax: 1 };
    expect(parseAll('ECHO 0123456789a\n', limits)).toEqual(commands(['ECHO', '0123456789a']));
    expect(errorOf('ECHO 0123456789ab\n', limits).message).toBe(RespErrorText.tooBigInline);
    expect(parseAll('a b c\n', limits)).toEqual(commands(['a', 'b', 'c']));
    expect(errorOf('a b c d\n', limits).code).toBe(ProtocolErrorCode.tooLarge);
  });

  it('scans a long inline line once, however it is chunked', () => {
    const word = 'w'.repeat(60_000);
    const stream = b(`ECHO ${word}\n`);
    const { results, error } = feed(respDriver(), stream, everyByte(stream.length));
    expect(error).toBeNull();
    expect(hex(results)).toEqual(commands(['ECHO', word]));
  });
});

describe('RESP parser: protocol errors carry Redis 7 texts', () => {
  const cases: { stream: string; code: string; message: string }[] = [
    { stream: '*abc\r\n', code: ProtocolErrorCode.badSize, message: 'Protocol error: invalid multibulk length' },
    { stream: '*01\r\n', code: ProtocolErrorCode.badSize, message: 'Protocol error: invalid multibulk length' },
    { stream: '*+1\r\n', code: ProtocolErrorCode.badSize, message: 'Protocol error: invalid multibulk length' },
    { stream: '*\r\n', code: ProtocolErrorCode.badSize, message: 'Protocol error: invalid multibulk length' },
    { stream: '*1\n$4\r\nPING\r\n', code: ProtocolErrorCode.badSize, message: 'Protocol error: invalid multibulk length' },
    { stream: '*1048577\r\n', code: ProtocolErrorCode.tooLarge, message: 'Protocol error: invalid multibulk length' },
    { stream: '*99999999999999999999\r\n', code: ProtocolErrorCode.tooLarge, message: 'Protocol error: invalid multibulk length' },
    { stream: '*1\r\n$x\r\n', code: ProtocolErrorCode.badSize, message: 'Protocol error: invalid bulk length' },
    { stream: '*1\r\n$-1\r\n', code: ProtocolErrorCode.badSize, message: 'Protocol error: invalid bulk length' },
    { stream: '*1\r\n$01\r\nx\r\n', code: ProtocolErrorCode.badSize, message: 'Protocol error: invalid bulk length' },
    { stream: '*1\r\n$\r\n', code: ProtocolErrorCode.badSize, message: 'Protocol error: invalid bulk length' },
    { stream: '*1\r\n$134217727\r\n', code: ProtocolErrorCode.tooLarge, message: 'Protocol error: invalid bulk length' },
    { stream: '*1\r\n$10737418240\r\n', code: ProtocolErrorCode.tooLarge, message: 'Protocol error: invalid bulk length' },
    { stream: '*1\r\nx', code: ProtocolErrorCode.framing, message: "Protocol error: expected '$', got 'x'" },
    { stream: '*2\r\n$1\r\na\r\n:1\r\n', code: ProtocolErrorCode.framing, message: "Protocol error: expected '$', got ':'" },
    { stream: '*1\r\n\r\n', code: ProtocolErrorCode.framing, message: "Protocol error: expected '$', got ' '" },
    { stream: '*1\r\n$3\r\nabcXY', code: ProtocolErrorCode.framing, message: RespErrorText.bulkNotTerminated },
  ];

  for (const { stream, code, message } of cases) {
    it(`refuses ${JSON.stringify(stream)} with ${JSON.stringify(message)}, whatever the chunking`, () => {
      const error = errorOf(stream);
      expect(error.code).toBe(code);
      expect(error.message).toBe(message);
      expect(error.responseCode).toBe(4);
      const bytewise = feed(respDriver(), b(stream), everyByte(stream.length));
      expect(bytewise.error?.message).toBe(message);
    });
  }

  it('stays failed after an error: next() throws the same error and pushes are ignored', () => {
    const parser = new RespParser(kDefaultLimits);
    parser.push(b('*x\r\n'));
    let first: unknown;
    try {
      parser.next();
    } catch (error) {
      first = error;
    }
    expect(first).toBeInstanceOf(ProtocolError);
    parser.push(encodeResp(['PING']));
    expect(() => parser.next()).toThrow(first as Error);
  });
});

describe('RESP parser: limits', () => {
  const small: ProtocolLimits = { requestMaxBytes: 32, queryElementsMax: 2, pipelineQueriesMax: 1 };

  it('accepts queryElementsMax arguments and refuses one more', () => {
    expect(parseAll(encodeResp(['a', 'b']), small)).toEqual(commands(['a', 'b']));
    expect(errorOf(encodeResp(['a', 'b', 'c']), small).message).toBe(RespErrorText.invalidMultibulkLength);
  });

  it('accepts a command of exactly requestMaxBytes and refuses one byte more', () => {
    // `*1\r\n$19\r\n` is 9 bytes, then 21 bulk bytes and CRLF: 32.
    const fits = encodeResp(['v'.repeat(21)]);
    expect(fits.length).toBe(32);
    expect(parseAll(fits, small)).toHaveLength(1);
    const over = encodeResp(['v'.repeat(22)]);
    const error = errorOf(over, small);
    expect(error.code).toBe(ProtocolErrorCode.tooLarge);
    expect(error.message).toBe(RespErrorText.invalidBulkLength);
  });

  it('refuses a huge bulk length immediately, holding no more memory than a small command', () => {
    for (const size of ['9'.repeat(40), '1000000000000000', '536870912']) {
      const parser = new RespParser(kDefaultLimits);
      parser.push(b(`*2\r\n$3\r\nSET\r\n$${size}\r\n`));
      expect(() => parser.next(), size).toThrow(RespErrorText.invalidBulkLength);
      expect(parser.retainedBytes).toBeLessThan(kInputInitialBytes);
    }
  });

  it('allocates nothing from an announced argument count', () => {
    const parser = new RespParser(kDefaultLimits);
    parser.push(b('*1048576\r\n$1\r\na\r\n'));
    expect(parser.next()).toBeNull();
    expect(parser.retainedBytes).toBeLessThanOrEqual(kInputInitialBytes + 1024);
  });
});

describe('RESP parser: every split and seeded fuzzing', () => {
  const corpus: { name: string; stream: Buffer; expected: string[][][] }[] = [
    {
      name: 'a SET/GET pipeline',
      stream: Buffer.concat([encodeResp(['SET', 'key:000001', 'xxx']), encodeResp(['GET', 'key:000001'])]),
      expected: commands(['SET', 'key:000001', 'xxx'], ['GET', 'key:000001']),
    },
    {
      name: 'inline, skipped and multibulk commands mixed',
      stream: Buffer.concat([b('PING\r\n\r\n*0\r\nSET "a\\r\\n" \'b c\'\n'), encodeResp(['ECHO', b('\r\n\r\n')]), b('QUIT\n')]),
      expected: commands(['PING'], ['SET', 'a\r\n', 'b c'], ['ECHO', '\r\n\r\n'], ['QUIT']),
    },
    {
      name: 'a large binary bulk',
      stream: encodeResp(['SET', 'k', Buffer.alloc(2500, '\r\n')]),
      expected: commands(['SET', 'k', Buffer.alloc(2500, '\r\n')]),
    },
  ];

  for (const { name, stream, expected } of corpus) {
    it(`parses ${name} split at every byte position and fed one byte at a time`, () => {
      for (const cut of everyByte(stream.length)) {
        const { results, error } = feed(respDriver(), stream, [cut]);
        expect(error).toBeNull();
        expect(hex(results), `split at ${cut}`).toEqual(expected);
      }
      const { results, error } = feed(respDriver(), stream, everyByte(stream.length));
      expect(error).toBeNull();
      expect(hex(results)).toEqual(expected);
    });
  }

  it('parses random valid multibulk and inline streams identically whatever the chunking', async () => {
    await withSeed((rng) => {
      for (let round = 0; round < 300; round++) {
        const expected: Buffer[][] = [];
        const parts: Buffer[] = [];
        const count = 1 + rng.int(6);
        for (let i = 0; i < count; i++) {
          const roll = rng.int(10);
          if (roll === 0) {
            parts.push(b(rng.pick(['\r\n', '\n', '*0\r\n', '*-1\r\n', '  \t\r\n'])));
            continue;
          }
          const args = roll < 5 ? Array.from({ length: 1 + rng.int(4) }, () => randomElement(rng)) : randomInlineArgs(rng);
          parts.push(roll < 5 ? encodeResp(args) : encodeInline(rng, args));
          expected.push(args);
        }
        const stream = Buffer.concat(parts);
        const { results, error } = feed(respDriver(), stream, randomCuts(rng, stream.length, 1 + rng.int(48)));
        expect(error, `round ${round}: ${JSON.stringify(stream.toString('latin1'))}`).toBeNull();
        expect(hex(results), `round ${round}: ${JSON.stringify(stream.toString('latin1'))}`).toEqual(hex(expected.map((args) => [args])));
      }
    });
  });

  it('answers mutated streams only with commands, "need more" or a ProtocolError with a Redis text', async () => {
    const limits: ProtocolLimits = { requestMaxBytes: 4096, queryElementsMax: 8, pipelineQueriesMax: 1 };
    const texts = new Set<string>(Object.values(RespErrorText));
    const codes = new Set<string>(Object.values(ProtocolErrorCode));
    await withSeed((rng) => {
      let errors = 0;
      for (let round = 0; round < 1500; round++) {
        const parts: Buffer[] = [];
        const count = 1 + rng.int(4);
        for (let i = 0; i < count; i++) {
          parts.push(rng.int(3) === 0 ? encodeInline(rng, randomInlineArgs(rng)) : encodeResp(Array.from({ length: 1 + rng.int(4) }, () => randomElement(rng))));
        }
        let stream: Buffer = Buffer.concat(parts);
        const mutations = 1 + rng.int(3);
        for (let i = 0; i < mutations; i++) stream = mutate(rng, stream);
        const driver = respDriver(limits);
        const { error } = feed(driver, stream, randomCuts(rng, stream.length, 1 + rng.int(512)), () => {
          expect(driver.pendingBytes).toBeLessThanOrEqual(limits.requestMaxBytes + 24);
          expect(driver.retainedBytes).toBeLessThanOrEqual(kInputInitialBytes + 8 * (limits.requestMaxBytes + 512));
        });
        if (error !== null) {
          errors++;
          expect(codes.has(error.code), error.code).toBe(true);
          const known = texts.has(error.message) || /^Protocol error: expected '\$', got '[^]'$/.test(error.message);
          expect(known, error.message).toBe(true);
          expect(() => driver.drain()).toThrow(error);
        }
      }
      expect(errors).toBeGreaterThan(100);
    });
  });
});
