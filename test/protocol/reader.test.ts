import { describe, expect, it } from 'vitest';
import {
  findCrlf,
  findLf,
  InputBuffer,
  kInputInitialBytes,
  kInputRetainBytes,
  kLineEmpty,
  kLineNeedMore,
  kLineNotDigit,
  kLineOk,
  kLineTooLong,
  maxDigitsFor,
  readSizeLineCrlf,
  readSizeLineLf,
  sizeLine,
} from '../../src/protocol/reader.js';

const b = (text: string) => Buffer.from(text, 'latin1');

describe('size lines', () => {
  it('needs the digits of the limit and no more', () => {
    expect([1, 9, 10, 99, 100, 65_536, 1_048_576, 134_217_728].map(maxDigitsFor)).toEqual([1, 1, 2, 2, 3, 5, 7, 9]);
  });

  it('reads Skyhash `<digits>\\n` lines', () => {
    const line = b('x123\nrest');
    expect(readSizeLineLf(line, 1, line.length, 3)).toBe(kLineOk);
    expect(sizeLine.value).toBe(123);
    expect(sizeLine.next).toBe(5);
    expect(readSizeLineLf(b('007\n'), 0, 4, 3)).toBe(kLineOk);
    expect(sizeLine.value).toBe(7);
    expect(readSizeLineLf(b('12'), 0, 2, 3)).toBe(kLineNeedMore);
    expect(readSizeLineLf(b('\n'), 0, 1, 3)).toBe(kLineEmpty);
    expect(readSizeLineLf(b('1a\n'), 0, 3, 3)).toBe(kLineNotDigit);
    expect(readSizeLineLf(b('-1\n'), 0, 3, 3)).toBe(kLineNotDigit);
  });

  it('refuses a surplus digit before the line ends', () => {
    expect(readSizeLineLf(b('1234'), 0, 4, 3)).toBe(kLineTooLong);
    expect(readSizeLineLf(b('999'), 0, 3, 3)).toBe(kLineNeedMore);
    expect(readSizeLineCrlf(b('1234'), 0, 4, 3)).toBe(kLineTooLong);
    expect(readSizeLineLf(b('9'.repeat(400)), 0, 400, 9)).toBe(kLineTooLong);
  });

  it('reads RESP `[-]<digits>\\r\\n` lines as string2ll does', () => {
    const ok = (text: string) => {
      expect(readSizeLineCrlf(b(text), 0, text.length, 9), text).toBe(kLineOk);
      return sizeLine.value;
    };
    expect(ok('0\r\n')).toBe(0);
    expect(ok('42\r\n')).toBe(42);
    expect(ok('-1\r\n')).toBe(-1);
    for (const bad of ['01\r\n', '-0\r\n', '+1\r\n', '-\r\n', '1 \r\n', '1\rx', '1x\r\n']) {
      expect(readSizeLineCrlf(b(bad), 0, bad.length, 9), bad).toBe(kLineNotDigit);
    }
    expect(readSizeLineCrlf(b('\r\n'), 0, 2, 9)).toBe(kLineEmpty);
    expect(readSizeLineCrlf(b('12\r'), 0, 3, 9)).toBe(kLineNeedMore);
    expect(readSizeLineCrlf(b('-'), 0, 1, 9)).toBe(kLineNeedMore);
  });

  it('finds line ends within the given range only', () => {
    const text = b('ab\r\ncd\nef');
    expect(findLf(text, 0, text.length)).toBe(3);
    expect(findLf(text, 4, text.length)).toBe(6);
    expect(findLf(text, 0, 3)).toBe(-1);
    expect(findCrlf(text, 0, text.length)).toBe(2);
    expect(findCrlf(text, 0, 3)).toBe(-1);
    expect(findCrlf(text, 3, text.length)).toBe(-1);
  });
});

describe('input buffer', () => {
  it('borrows a chunk when nothing is pending, and copies pending bytes when asked for more', () => {
    const input = new InputBuffer();
    const chunk = b('hello world');
    input.push(chunk);
    expect(input.bytes).toBe(chunk);
    expect(input.capacityBytes).toBe(0);
    input.consume(6);
    input.settle();
    expect(input.bytes).not.toBe(chunk);
    chunk.fill(0);
    expect(input.bytes.toString('latin1', input.start, input.end)).toBe('world');
  });

  it('appends behind pending bytes, copying a borrowed chunk first', () => {
    const input = new InputBuffer();
    const first = b('abc');
    input.push(first);
    input.consume(1);
    input.push(b('def'));
    first.fill(0);
    expect(input.bytes.toString('latin1', input.start, input.end)).toBe('bcdef');
  });

  it('compacts consumed bytes instead of growing when the pending bytes fit', () => {
    const input = new InputBuffer();
    input.push(b('x'));
    input.push(Buffer.alloc(kInputInitialBytes - 1, 0x61));
    expect(input.capacityBytes).toBe(kInputInitialBytes);
    input.consume(kInputInitialBytes - 10);
    input.push(b('0123456789'));
    expect(input.capacityBytes).toBe(kInputInitialBytes);
    expect(input.pendingBytes).toBe(20);
    expect(input.bytes.toString('latin1', input.start, input.end)).toBe(`${'a'.repeat(10)}0123456789`);
  });

  it('grows geometrically while a request accumulates', () => {
    const input = new InputBuffer();
    input.push(b('s'));
    const capacities = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      input.push(Buffer.alloc(1000, i & 0xff));
      capacities.add(input.capacityBytes);
    }
    expect(input.pendingBytes).toBe(1 + 1000 * 1000);
    expect(capacities.size).toBeLessThanOrEqual(8);
    expect(input.bytes[input.start + 1 + 999 * 1000]).toBe(999 & 0xff);
  });

  it('drops oversized storage once drained, and all storage on trim', () => {
    const input = new InputBuffer();
    input.push(b('s'));
    input.push(Buffer.alloc(4 * kInputRetainBytes));
    input.consume(input.pendingBytes);
    input.settle();
    expect(input.capacityBytes).toBe(0);
    input.push(b('ab'));
    input.consume(1);
    input.settle();
    expect(input.capacityBytes).toBe(kInputInitialBytes);
    input.trim();
    expect(input.capacityBytes).toBe(kInputInitialBytes);
    input.consume(1);
    input.trim();
    expect(input.capacityBytes).toBe(0);
  });
});
