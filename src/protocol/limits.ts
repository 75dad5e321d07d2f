/**
 * Bounds on what one client may send, and the error every wire parser raises when a client
 * breaks the protocol or those bounds.
 *
 * Guarantees:
 * - `ProtocolLimits` is the only input the parsers take from configuration; `checkProtocolLimits`
 *   refuses values the parsers cannot honour (offsets are kept in Int32Arrays, so a request is
 *   at most `kRequestMaxBytesCeiling`).
 * - Every refusal of client input is a `ProtocolError` with a stable `code` (match on `code`,
 *   never on the message) and the Skyhash response code that applies (4 packet error, or 7
 *   wrong type for a non-digit where a size was expected). For RESP the message is the exact
 *   text Redis 7 replies with (the server prefixes `ERR `).
 */

import { ErrorCode, FrostError } from '../util/errors.js';

export interface ProtocolLimits {
  /** Largest request (one Skyhash packet, one RESP command), in bytes, framing included. */
  readonly requestMaxBytes: number;
  /** Most elements in one Skyhash query, or arguments in one RESP command. */
  readonly queryElementsMax: number;
  /** Most queries in one Skyhash pipeline. */
  readonly pipelineQueriesMax: number;
}

/** Offsets inside a request are stored in Int32Arrays; 1 GiB keeps every sum far from 2^31. */
export const kRequestMaxBytesCeiling = 1024 * 1024 * 1024;

/** Counts are bounded by the request size anyway (an element needs at least 3 bytes). */
export const kCountMaxCeiling = kRequestMaxBytesCeiling;

export const ProtocolErrorCode = {
  /** Bytes that do not follow the framing: a wrong leading symbol, a missing terminator. */
  framing: ErrorCode.protocolFraming,
  /** A size or count above the configured limits (refused before any allocation of that size). */
  tooLarge: ErrorCode.protocolTooLarge,
  /** Something other than digits where a size or count was expected. */
  badSize: ErrorCode.protocolBadSize,
  /** A Skyhash packet announcing zero queries, or a query announcing zero elements. */
  empty: ErrorCode.protocolEmpty,
  /** A RESP inline command with an unterminated quote, or a closing quote glued to a word. */
  unbalancedQuotes: ErrorCode.protocolUnbalancedQuotes,
} as const;

export type ProtocolErrorCodeValue = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

/** Skyhash response code 4: packet error. */
export const kSkyhashPacketError = 4;
/** Skyhash response code 7: wrong type (a size that is not a number). */
export const kSkyhashWrongType = 7;

export type SkyhashProtocolResponseCode = typeof kSkyhashPacketError | typeof kSkyhashWrongType;

export class ProtocolError extends FrostError {
  declare readonly code: ProtocolErrorCodeValue;
  /** The Skyhash response code to reply with before closing the connection. */
  readonly responseCode: SkyhashProtocolResponseCode;

  constructor(code: ProtocolErrorCodeValue, message: string, responseCode: SkyhashProtocolResponseCode = kSkyhashPacketError) {
    super(code, message);
    this.name = 'ProtocolError';
    this.responseCode = responseCode;
  }
}

export function isProtocolError(error: unknown): error is ProtocolError {
  return error instanceof ProtocolError;
}

/** Refuse limits the parsers cannot honour: an error in configuration, not in client input. */
export function checkProtocolLimits(limits: ProtocolLimits): void {
  checkLimit('requestMaxBytes', limits.requestMaxBytes, kRequestMaxBytesCeiling);
  checkLimit('queryElementsMax', limits.queryElementsMax, kCountMaxCeiling);
  checkLimit('pipelineQueriesMax', limits.pipelineQueriesMax, kCountMaxCeiling);
}

function checkLimit(name: string, value: number, ceiling: number): void {
  if (!Number.isSafeInteger(value) || value < 1 || value > ceiling) {
    throw new FrostError(
      ErrorCode.badOption,
      `bad value for \`limits.${name}\`: expected an integer from 1 to ${ceiling}, got ${String(value)}`,
    );
  }
}
