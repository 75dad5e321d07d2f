import { describe, expect, it } from 'vitest';
import { InvariantError } from '../../../src/util/assert.js';
import { kSkyhashTypeBinary, kSkyhashTypeString, SkyhashWriter } from '../../../src/protocol/skyhash/writer.js';

function written(build: (writer: SkyhashWriter) => void): string {
  const writer = new SkyhashWriter();
  build(writer);
  return writer.take().toString('latin1');
}

/** The UTF-8 bytes of `text`, as a latin1 string comparable with `written`. */
const utf8 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

describe('Skyhash writer: exact bytes per element kind', () => {
  it('writes the response header', () => {
    expect(written((w) => w.response(1))).toBe('*1\n');
    expect(written((w) => w.response(12))).toBe('*12\n');
  });

  it('writes strings and binary strings with byte lengths', () => {
    expect(written((w) => w.str('HEY!'))).toBe('+4\nHEY!\n');
    expect(written((w) => w.binstr('abc'))).toBe('?3\nabc\n');
    expect(written((w) => w.str(''))).toBe('+0\n\n');
    expect(written((w) => w.str('héllo'))).toBe(utf8('+6\nhéllo\n'));
    expect(written((w) => w.binstr('日本語'))).toBe(utf8('?9\n日本語\n'));
    expect(written((w) => w.str('😀'))).toBe(utf8('+4\n😀\n'));
    expect(written((w) => w.str('\ud800'))).toBe(utf8('+3\n\ufffd\n'));
  });

  it('writes long strings, ASCII and not', () => {
    const ascii = 'a'.repeat(1000);
    const mixed = `${'é'.repeat(40)}${'b'.repeat(100)}`;
    expect(written((w) => w.str(ascii))).toBe(`+1000\n${ascii}\n`);
    expect(written((w) => w.str(mixed))).toBe(utf8(`+180\n${mixed}\n`));
  });

  it('writes bytes from any Uint8Array range, short and long', () => {
    const backing = new Uint8Array(300).map((_, i) => i & 0xff);
    const view = new Uint8Array(backing.buffer, 10, 200);
    expect(written((w) => w.binstr(view, 2, 3))).toBe('?3\n\x0c\x0d\x0e\n');
    const long = Buffer.from(backing.buffer, 50, 100);
    expect(written((w) => w.binstr(view, 40, 100))).toBe(`?100\n${long.toString('latin1')}\n`);
    expect(written((w) => w.str(Buffer.from('abc')))).toBe('+3\nabc\n');
    expect(written((w) => w.scalar(kSkyhashTypeBinary, Buffer.from('\n\0\r')))).toBe('?3\n\n\0\r\n');
  });

  it('writes unsigned integers with their digit count', () => {
    expect(written((w) => w.uint(0))).toBe(':1\n0\n');
    expect(written((w) => w.uint(5))).toBe(':1\n5\n');
    expect(written((w) => w.uint(9))).toBe(':1\n9\n');
    expect(written((w) => w.uint(10))).toBe(':2\n10\n');
    expect(written((w) => w.uint(42))).toBe(':2\n42\n');
    expect(written((w) => w.uint(99))).toBe(':2\n99\n');
    expect(written((w) => w.uint(100))).toBe(':3\n100\n');
    expect(written((w) => w.uint(4294967296))).toBe(':10\n4294967296\n');
    expect(written((w) => w.uint(2 ** 53 - 1))).toBe(':16\n9007199254740991\n');
  });

  it('writes every power of ten and its predecessor exactly', () => {
    for (let digits = 1; digits <= 15; digits++) {
      const power = 10 ** digits;
      expect(written((w) => w.uint(power))).toBe(`:${digits + 1}\n${power}\n`);
      expect(written((w) => w.uint(power - 1))).toBe(`:${digits}\n${power - 1}\n`);
    }
  });

  it('writes floats as their shortest text', () => {
    expect(written((w) => w.float(1.2))).toBe('%3\n1.2\n');
    expect(written((w) => w.float(0.5))).toBe('%3\n0.5\n');
    expect(written((w) => w.float(1))).toBe('%1\n1\n');
  });

  it('writes response codes and error strings', () => {
    expect(written((w) => w.code(0))).toBe('!1\n0\n');
    expect(written((w) => w.code(1))).toBe('!1\n1\n');
    expect(written((w) => w.code(11))).toBe('!2\n11\n');
    expect(written((w) => w.error('err-snapshot-busy'))).toBe('!17\nerr-snapshot-busy\n');
    expect(written((w) => w.error('Unknown action'))).toBe('!14\nUnknown action\n');
  });

  it('writes typed arrays with nulls', () => {
    const out = written((w) => {
      w.typedArray(kSkyhashTypeString, 4);
      w.element('a');
      w.nullElement();
      w.element(Buffer.from('xyz'));
      w.element('');
    });
    expect(out).toBe('@+4\n1\na\n\0\n3\nxyz\n0\n\n');
    expect(written((w) => w.typedArray(kSkyhashTypeBinary, 0))).toBe('@?0\n');
  });

  it('writes non-null typed arrays', () => {
    const out = written((w) => {
      w.nonNullArray(kSkyhashTypeString, 2);
      w.element('default');
      w.element('tbl');
    });
    expect(out).toBe('^+2\n7\ndefault\n3\ntbl\n');
    expect(written((w) => (w.nonNullArray(kSkyhashTypeBinary, 1), w.element('é')))).toBe(utf8('^?1\n2\né\n'));
  });

  it('writes a pipeline response as one batch', () => {
    const out = written((w) => {
      w.response(3);
      w.code(0);
      w.str('100');
      w.code(1);
    });
    expect(out).toBe('*3\n!1\n0\n+3\n100\n!1\n1\n');
  });

  it('refuses non-integers and bad ranges as caller bugs', () => {
    const writer = new SkyhashWriter();
    expect(() => writer.uint(-1)).toThrow(InvariantError);
    expect(() => writer.uint(1.5)).toThrow(InvariantError);
    expect(() => writer.uint(2 ** 53)).toThrow(InvariantError);
    expect(() => writer.str(Buffer.from('abc'), 2, 5)).toThrow(InvariantError);
    expect(() => writer.typedArray(kSkyhashTypeString, -1)).toThrow(InvariantError);
    expect(writer.pendingBytes).toBe(0);
  });
});
