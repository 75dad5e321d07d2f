import { describe, expect, it } from 'vitest';
import { ErrorCode, isFrostError } from '../../src/util/errors.js';
import {
  checkProtocolLimits,
  kRequestMaxBytesCeiling,
  ProtocolError,
  ProtocolErrorCode,
} from '../../src/protocol/limits.js';
import { RespParser } from '../../src/protocol/resp/parser.js';
import { SkyhashParser } from '../../src/protocol/skyhash/parser.js';
import { kDefaultLimits } from './helpers.js';

describe('protocol limits', () => {
  it('accepts the configured defaults and the ceiling itself', () => {
    expect(() => checkProtocolLimits(kDefaultLimits)).not.toThrow();
    expect(() => checkProtocolLimits({ ...kDefaultLimits, requestMaxBytes: kRequestMaxBytesCeiling })).not.toThrow();
  });

  it('refuses limits the parsers cannot honour, naming the key', () => {
    const bad = [
      { ...kDefaultLimits, requestMaxBytes: 0 },
      { ...kDefaultLimits, requestMaxBytes: kRequestMaxBytesCeiling + 1 },
      { ...kDefaultLimits, queryElementsMax: 1.5 },
      { ...kDefaultLimits, pipelineQueriesMax: Number.NaN },
    ];
    for (const limits of bad) {
      expect(() => new SkyhashParser(limits)).toThrow(/limits\.\w+/);
      expect(() => new RespParser(limits)).toThrow(expect.objectContaining({ code: ErrorCode.badOption }));
    }
  });

  it('gives protocol errors a stable code and the Skyhash response code', () => {
    const error = new ProtocolError(ProtocolErrorCode.badSize, 'x', 7);
    expect(error).toBeInstanceOf(Error);
    expect(isFrostError(error, 'ERR_PROTOCOL_BAD_SIZE')).toBe(true);
    expect(error.responseCode).toBe(7);
    expect(new ProtocolError(ProtocolErrorCode.framing, 'y').responseCode).toBe(4);
    expect(Object.values(ProtocolErrorCode)).toEqual([
      'ERR_PROTOCOL_FRAMING',
      'ERR_PROTOCOL_TOO_LARGE',
      'ERR_PROTOCOL_BAD_SIZE',
      'ERR_PROTOCOL_EMPTY',
      'ERR_PROTOCOL_UNBALANCED_QUOTES',
    ]);
  });
});
