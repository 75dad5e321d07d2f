import { describe, expect, it } from 'vitest';
import { InvariantError } from '../../../src/util/assert.js';
import { RespWriter, formatDouble } from '../../../src/protocol/resp/writer.js';

function written(build: (writer: RespWriter) => void): string {
  const writer = new RespWriter();
  build(writer);
  return writer.take().toString('latin1');
}

const utf8 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

describe('RESP writer: exact bytes per reply kind', () => {
  it('writes simple strings', () => {
    expect(written((w) => w.ok())).toBe('+OK\r\n');
    expect(written((w) => w.simple('PONG'))).toBe('+PONG\r\n');
    expect(written((w) => w.simple('Background saving started'))).toBe('+Background saving started\r\n');
    expect(written((w) => w.simple(''))).toBe('+\r\n');
  });

  it('writes errors verbatim, turning CR and LF into spaces', () => {
    expect(written((w) => w.error("ERR unknown command 'FOO'"))).toBe("-ERR unknown command 'FOO'\r\n");
    expect(written((w) => w.error('ERR Protocol error: invalid bulk length'))).toBe('-ERR Protocol error: invalid bulk length\r\n');
    expect(written((w) => w.error('ERR a\r\nb\nc'))).toBe('-ERR a  b c\r\n');
    expect(written((w) => w.simple('x\ny'))).toBe('+x y\r\n');
  });

  it('writes integers', () => {
    const cases: [number | bigint, string][] = [
      [0, ':0\r\n'],
      [1, ':1\r\n'],
      [9, ':9\r\n'],
      [10, ':10\r\n'],
      [-1, ':-1\r\n'],
      [-10, ':-10\r\n'],
      [2 ** 53 - 1, ':9007199254740991\r\n'],
      [-(2 ** 53 - 1), ':-9007199254740991\r\n'],
      [9223372036854775807n, ':9223372036854775807\r\n'],
      [-9223372036854775808n, ':-9223372036854775808\r\n'],
    ];
    for (const [n, expected] of cases) expect(written((w) => w.integer(n)), String(n)).toBe(expected);
  });

  it('writes bulk strings with byte lengths, from strings and byte ranges', () => {
    expect(written((w) => w.bulk('bar'))).toBe('$3\r\nbar\r\n');
    expect(written((w) => w.bulk(''))).toBe('$0\r\n\r\n');
    expect(written((w) => w.bulk('日本'))).toBe(utf8('$6\r\n日本\r\n'));
    expect(written((w) => w.bulk(Buffer.from('a\r\nb')))).toBe('$4\r\na\r\nb\r\n');
    const source = Buffer.from('0123456789');
    expect(written((w) => w.bulk(source, 3, 4))).toBe('$4\r\n3456\r\n');
    const big = Buffer.alloc(5000, 'q');
    expect(written((w) => w.bulk(big, 1000, 3000))).toBe(`$3000\r\n${'q'.repeat(3000)}\r\n`);
  });

  it('writes null bulks, arrays and null arrays', () => {
    expect(written((w) => w.nullBulk())).toBe('$-1\r\n');
    expect(written((w) => w.nullArray())).toBe('*-1\r\n');
    expect(written((w) => w.array(0))).toBe('*0\r\n');
    const out = written((w) => {
      w.array(3);
      w.bulk('a');
      w.nullBulk();
      w.integer(7);
    });
    expect(out).toBe('*3\r\n$1\r\na\r\n$-1\r\n:7\r\n');
  });

  it('appends pre-encoded bytes verbatim', () => {
    expect(written((w) => (w.raw('+PONG\r\n'), w.raw(Buffer.from('xx:1\r\n'), 2)))).toBe('+PONG\r\n:1\r\n');
  });

  it('refuses unsafe integers and bad ranges as caller bugs', () => {
    const writer = new RespWriter();
    expect(() => writer.integer(2 ** 53)).toThrow(InvariantError);
    expect(() => writer.integer(0.5)).toThrow(InvariantError);
    expect(() => writer.bulk(Buffer.from('ab'), 1, 2)).toThrow(InvariantError);
    expect(() => writer.array(-1)).toThrow(InvariantError);
  });
});

function written3(protocol: 2 | 3, build: (writer: RespWriter) => void): string {
  const writer = new RespWriter();
  writer.protocol = protocol;
  build(writer);
  return writer.take().toString('latin1');
}

describe('RESP writer: RESP3 frames and their RESP2 fallbacks (Redis 7)', () => {
  it('writes maps as % (RESP3) and as a flat array of twice the pairs (RESP2)', () => {
    const pairs = (w: RespWriter) => {
      w.map(2);
      w.bulk('a');
      w.integer(1);
      w.bulk('b');
      w.bulk('x');
    };
    expect(written3(3, pairs)).toBe('%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$1\r\nx\r\n');
    expect(written3(2, pairs)).toBe('*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$1\r\nx\r\n');
    expect(written3(3, (w) => w.map(0))).toBe('%0\r\n');
    expect(written3(2, (w) => w.map(0))).toBe('*0\r\n');
  });

  it('writes sets as ~ and pushes as >, both arrays in RESP2', () => {
    expect(written3(3, (w) => w.set(3))).toBe('~3\r\n');
    expect(written3(2, (w) => w.set(3))).toBe('*3\r\n');
    expect(written3(3, (w) => w.push(2))).toBe('>2\r\n');
    expect(written3(2, (w) => w.push(2))).toBe('*2\r\n');
  });

  it('writes doubles as C %.17g: , in RESP3, a bulk string in RESP2; infinities as inf/-inf', () => {
    expect(written3(3, (w) => w.double(1.5))).toBe(',1.5\r\n');
    expect(written3(2, (w) => w.double(1.5))).toBe('$3\r\n1.5\r\n');
    expect(written3(3, (w) => w.double(0.1))).toBe(',0.10000000000000001\r\n');
    expect(written3(2, (w) => w.double(0.1))).toBe('$19\r\n0.10000000000000001\r\n');
    expect(written3(3, (w) => w.double(Infinity))).toBe(',inf\r\n');
    expect(written3(3, (w) => w.double(-Infinity))).toBe(',-inf\r\n');
    expect(written3(2, (w) => w.double(-Infinity))).toBe('$4\r\n-inf\r\n');
    expect(written3(3, (w) => w.double(3))).toBe(',3\r\n');
  });

  it('formats doubles exactly as printf("%.17g")', () => {
    const cases: Array<[number, string]> = [
      [0, '0'],
      [-0, '-0'],
      [1e17, '1e+17'],
      [1e16, '10000000000000000'],
      [123456789012345678, '1.2345678901234568e+17'],
      [1e-5, '1.0000000000000001e-05'],
      [0.0001, '0.0001'],
      [1e300, '1.0000000000000001e+300'],
      [5e-324, '4.9406564584124654e-324'],
      [3.14159, '3.1415899999999999'],
      [-2.5, '-2.5'],
      [2 ** 53, '9007199254740992'],
      [NaN, 'nan'],
    ];
    for (const [n, text] of cases) expect(formatDouble(n), String(n)).toBe(text);
  });

  it('writes booleans as #t/#f, integers 1/0 in RESP2', () => {
    expect(written3(3, (w) => w.boolean(true))).toBe('#t\r\n');
    expect(written3(3, (w) => w.boolean(false))).toBe('#f\r\n');
    expect(written3(2, (w) => w.boolean(true))).toBe(':1\r\n');
    expect(written3(2, (w) => w.boolean(false))).toBe(':0\r\n');
  });

  it('writes nulls as _ in RESP3; RESP2 keeps the null bulk or null array the command used', () => {
    expect(written3(3, (w) => w.null())).toBe('_\r\n');
    expect(written3(3, (w) => w.nullBulk())).toBe('_\r\n');
    expect(written3(3, (w) => w.nullArray())).toBe('_\r\n');
    expect(written3(2, (w) => w.null())).toBe('$-1\r\n');
    expect(written3(2, (w) => w.nullBulk())).toBe('$-1\r\n');
    expect(written3(2, (w) => w.nullArray())).toBe('*-1\r\n');
  });

  it('writes big numbers as ( and as a bulk string in RESP2; refuses anything but digits', () => {
    expect(written3(3, (w) => w.bigNumber('3492890328409238509324850943850943825024385'))).toBe('(3492890328409238509324850943850943825024385\r\n');
    expect(written3(3, (w) => w.bigNumber(-12n))).toBe('(-12\r\n');
    expect(written3(2, (w) => w.bigNumber('123'))).toBe('$3\r\n123\r\n');
    expect(() => written3(3, (w) => w.bigNumber('1e5'))).toThrow(InvariantError);
  });

  it('writes verbatim strings as =<len> with the format prefix, a bulk string in RESP2', () => {
    expect(written3(3, (w) => w.verbatim('Some string'))).toBe('=15\r\ntxt:Some string\r\n');
    expect(written3(3, (w) => w.verbatim('# x', 'mkd'))).toBe('=7\r\nmkd:# x\r\n');
    expect(written3(3, (w) => w.verbatim(''))).toBe('=4\r\ntxt:\r\n');
    expect(written3(3, (w) => w.verbatim('日本'))).toBe(utf8('=10\r\ntxt:日本\r\n'));
    expect(written3(2, (w) => w.verbatim('a\r\nb'))).toBe('$4\r\na\r\nb\r\n');
  });

  it('keeps the RESP2-only frames unchanged in RESP3', () => {
    const all = (w: RespWriter) => {
      w.ok();
      w.error('ERR x');
      w.integer(-7);
      w.bulk('v');
      w.array(1);
    };
    expect(written3(3, all)).toBe(written3(2, all));
  });

  it('rewinds to a mark, dropping only what was written after it (CLIENT REPLY OFF)', () => {
    const writer = new RespWriter();
    writer.ok();
    const mark = writer.mark();
    writer.bulk('dropped');
    writer.rewind(mark);
    writer.integer(1);
    expect(writer.take().toString('latin1')).toBe('+OK\r\n:1\r\n');
  });
});
