import { describe, expect, it } from 'vitest';
import { kOutputInitialBytes, kOutputRetainBytes, uintDigits, utf8Length } from '../../src/protocol/output.js';
import { RespWriter } from '../../src/protocol/resp/writer.js';
import { SkyhashWriter } from '../../src/protocol/skyhash/writer.js';

describe('output buffer: batching and ownership', () => {
  it('hands out every reply appended since the last take, once', () => {
    const writer = new RespWriter();
    writer.ok();
    writer.integer(5);
    writer.bulk('x');
    expect(writer.pendingBytes).toBe(5 + 4 + 7);
    expect(writer.take().toString()).toBe('+OK\r\n:5\r\n$1\r\nx\r\n');
    expect(writer.pendingBytes).toBe(0);
    expect(writer.take().length).toBe(0);
  });

  it('never writes into a taken buffer before it is released', () => {
    const writer = new RespWriter();
    writer.bulk('first');
    const out = writer.take();
    const snapshot = Buffer.from(out);
    for (let i = 0; i < 100; i++) writer.bulk('second batch overwrites nothing');
    expect(out.equals(snapshot)).toBe(true);
    const second = writer.take();
    expect(second.buffer).not.toBe(out.buffer);
    expect(out.equals(snapshot)).toBe(true);
  });

  it('reuses released storage: two storages alternate in steady state', () => {
    const writer = new SkyhashWriter();
    const storages = new Set<ArrayBufferLike>();
    for (let batch = 0; batch < 50; batch++) {
      writer.response(1);
      writer.code(0);
      const out = writer.take();
      storages.add(out.buffer);
      writer.release(out);
    }
    expect(storages.size).toBe(1);
    const pending: Buffer[] = [];
    for (let batch = 0; batch < 50; batch++) {
      writer.code(0);
      pending.push(writer.take());
      if (pending.length === 2) writer.release(pending.shift()!);
      storages.add(pending[pending.length - 1]!.buffer);
    }
    expect(storages.size).toBeLessThanOrEqual(3);
  });

  it('ignores buffers it did not lend', () => {
    const writer = new RespWriter();
    writer.ok();
    const foreign = Buffer.alloc(64);
    writer.release(foreign);
    writer.release(writer.take());
    writer.simple('A');
    expect(writer.take().toString()).toBe('+A\r\n');
    expect(foreign.every((byte) => byte === 0)).toBe(true);
  });

  it('grows for large replies and does not keep oversized storage after release', () => {
    const writer = new RespWriter();
    const value = Buffer.alloc(3 * kOutputRetainBytes, 7);
    writer.bulk(value);
    const out = writer.take();
    expect(out.length).toBe(value.length + 12);
    writer.release(out);
    expect(writer.retainedBytes).toBeLessThanOrEqual(kOutputRetainBytes);
    writer.ok();
    expect(writer.retainedBytes).toBeLessThanOrEqual(kOutputRetainBytes);
    writer.trim();
    expect(writer.take().toString()).toBe('+OK\r\n');
  });

  it('keeps what was already written when it grows mid-batch', () => {
    const writer = new SkyhashWriter();
    writer.response(2);
    writer.str('a'.repeat(10));
    writer.binstr(Buffer.alloc(kOutputInitialBytes * 3, 0x62));
    const out = writer.take().toString('latin1');
    expect(out.startsWith(`*2\n+10\n${'a'.repeat(10)}\n?${kOutputInitialBytes * 3}\nbbb`)).toBe(true);
    expect(out.endsWith('bbb\n')).toBe(true);
  });
});

describe('output helpers', () => {
  it('counts decimal digits', () => {
    expect([0, 9, 10, 99, 100, 2 ** 53 - 1].map(uintDigits)).toEqual([1, 1, 2, 2, 3, 16]);
  });

  it('measures UTF-8 lengths as Node encodes them', () => {
    for (const text of ['', 'abc', 'héllo', '日本語', '😀', '\ud800x', 'a'.repeat(100), 'é'.repeat(100)]) {
      expect(utf8Length(text), text).toBe(Buffer.byteLength(text, 'utf8'));
    }
  });
});
