/**
 * A bad count or bulk length line gets the text Redis 7.0 gives once it has read the line:
 * `invalid ...` when a '\r' ends it, `too big ... count string` when none comes within 64 KiB
 * or a NUL comes first (networking.c, processMultibulkBuffer, at 7.0.15).
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/protocol/limits.js';
import { kInlineMaxBytes, RespErrorText, RespParser } from '../../../src/protocol/resp/parser.js';
import { everyByte, feed, kDefaultLimits, randomCuts, respDriver } from '../helpers.js';
import { Rng } from '../../support/random.js';

const b = (text: string) => Buffer.from(text, 'latin1');

function errorOf(stream: Buffer): ProtocolError | null {
  const parser = new RespParser(kDefaultLimits);
  parser.push(stream);
  try {
    while (parser.next() !== null);
    return null;
  } catch (error) {
    return error as ProtocolError;
  }
}

describe('RESP parser: bad size lines as Redis 7.0 reads them', () => {
  const endless = Buffer.alloc(kInlineMaxBytes + 10, 0x41);

  const refused: { name: string; stream: Buffer; message: string }[] = [
    { name: '*\\x00 then anything', stream: b('*\x00\r\n$4\r\nPING\r\n'), message: RespErrorText.tooBigMbulkCount },
    { name: 'a count line of 64 KiB with no CR', stream: Buffer.concat([b('*x'), endless]), message: RespErrorText.tooBigMbulkCount },
    { name: 'a count of too many digits and no CR', stream: Buffer.concat([b('*'), Buffer.alloc(kInlineMaxBytes + 1, 0x39)]), message: RespErrorText.tooBigMbulkCount },
    { name: '$\\x00 in a bulk header', stream: b('*1\r\n$\x00\r\n'), message: RespErrorText.tooBigBulkCount },
    { name: 'a bulk length line of 64 KiB with no CR', stream: Buffer.concat([b('*1\r\n$1x'), endless]), message: RespErrorText.tooBigBulkCount },
    { name: 'a bad count line ended by CR', stream: b('*1x2\r\n'), message: RespErrorText.invalidMultibulkLength },
    { name: 'a bad bulk length line ended by CR', stream: b('*1\r\n$1x2\r\n'), message: RespErrorText.invalidBulkLength },
  ];

  for (const { name, stream, message } of refused) {
    it(`refuses ${name} with ${JSON.stringify(message)}, whatever the chunking`, () => {
      expect(errorOf(stream)?.message).toBe(message);
      const cuts = stream.length < 1000 ? everyByte(stream.length) : randomCuts(new Rng(7), stream.length, 4096);
      expect(feed(respDriver(), stream, cuts).error?.message).toBe(message);
    });
  }

  it('waits for the line to end before judging a bad count line, holding at most 64 KiB', () => {
    const parser = new RespParser(kDefaultLimits);
    parser.push(b('*12x'));
    expect(parser.next()).toBeNull();
    parser.push(Buffer.alloc(kInlineMaxBytes - 10, 0x41));
    expect(parser.next()).toBeNull();
    expect(parser.retainedBytes).toBeLessThanOrEqual(2 * (kInlineMaxBytes + 16 * 1024) + 1024);
    parser.push(b('\r\n'));
    expect(() => parser.next()).toThrow(RespErrorText.invalidMultibulkLength);
  });
});
