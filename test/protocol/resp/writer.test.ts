import { describe, expect, it } from 'vitest';
import { InvariantError } from '../../../src/util/assert.js';
import { RespWriter } from '../../../src/protocol/resp/writer.js';

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
