/**
 * INCRBYFLOAT's numbers as Redis computes them: C `long double` (x86-64's 80-bit extended
 * format, a 64-bit mantissa, round-to-nearest-even), emulated exactly with bigints.
 *
 * Guarantees:
 * - `parseFloatText` answers null for whatever Redis's string2ld refuses ("not a valid
 *   float"): empty or 5 KiB and longer, leading space, trailing bytes (a NUL included), NaN,
 *   a value that overflows the format or underflows to zero; it accepts what `strtold` does
 *   (decimal with exponent, hex with a binary exponent, inf/infinity).
 * - `addFloatText` rounds the exact sum to the format once, as the hardware does; null when
 *   the sum is NaN or infinite (Redis: "increment would produce NaN or Infinity").
 * - `formatFloatText` is Redis's "human" output: printf("%.17Lf") of the exact binary value
 *   (rounded half to even), trailing zeros and a bare '.' removed, "-0" written "0". It never
 *   prints an exponent.
 */

/** A finite value: sign * mantissa * 2^exponent, mantissa 0 or 64 bits exactly. */
export interface LongDouble {
  readonly negative: boolean;
  readonly mantissa: bigint;
  readonly exponent: number;
}

/** A parsed float: finite, or an infinity. */
export type FloatValue = { readonly finite: LongDouble } | { readonly infinite: 1 | -1 };

/** Redis's MAX_LONG_DOUBLE_CHARS: text this long or longer is refused before parsing. */
export const kFloatTextMaxBytes = 5 * 1024;
const kMantissaBits = 64;
/** Values at or above 2^16384 overflow the format. */
const kMaxBinaryOrder = 16384;
/** Below 2^-16445 (the smallest subnormal) a value rounds to zero. */
const kMinBinaryOrder = -16445;
/** Redis prints INCRBYFLOAT results with "%.17Lf". */
const kFractionDigits = 17;
/** A decimal exponent this far out is outside the format whatever the digits (5 KiB of them at most). */
const kDecimalExponentLimit = 10_000;

const kZero: LongDouble = { negative: false, mantissa: 0n, exponent: 0 };

const kDecimalPattern = /^([+-]?)(?:(\d+)\.?(\d*)|\.(\d+))(?:[eE]([+-]?\d+))?$/;
const kHexPattern = /^([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?$/;
const kInfinityPattern = /^([+-]?)inf(?:inity)?$/i;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/**
 * numerator / denominator * 2^shift (both positive) rounded to a 64-bit mantissa, half to
 * even on the exact quotient (a non-zero remainder breaks a tie upwards).
 */
function round(negative: boolean, numerator: bigint, denominator: bigint, shift: number): LongDouble {
  if (numerator === 0n) return { ...kZero, negative };
  // Scale so the quotient has at least 66 bits: 64 kept, the rest decide the rounding.
  const k = kMantissaBits + 2 - (bitLength(numerator) - bitLength(denominator));
  const scaledNum = k >= 0 ? numerator << BigInt(k) : numerator;
  const scaledDen = k >= 0 ? denominator : denominator << BigInt(-k);
  let quotient = scaledNum / scaledDen;
  const sticky = scaledNum % scaledDen !== 0n;
  const drop = bitLength(quotient) - kMantissaBits;
  const low = quotient & ((1n << BigInt(drop)) - 1n);
  const half = 1n << BigInt(drop - 1);
  quotient >>= BigInt(drop);
  if (low > half || (low === half && (sticky || (quotient & 1n) === 1n))) quotient += 1n;
  let exponent = drop - k + shift;
  if (bitLength(quotient) > kMantissaBits) {
    quotient >>= 1n;
    exponent += 1;
  }
  return { negative, mantissa: quotient, exponent };
}

/** The binary order (bit length + exponent) of a non-zero value: it is below 2^order. */
function orderOf(value: LongDouble): number {
  return value.exponent + kMantissaBits;
}

/** A finite result of parsing, or null when strtold would report a range error Redis refuses. */
function inRange(value: LongDouble): LongDouble | null {
  if (value.mantissa === 0n) return value;
  const order = orderOf(value);
  return order > kMaxBinaryOrder || order <= kMinBinaryOrder ? null : value;
}

function parseDecimal(match: RegExpExecArray): LongDouble | null {
  const [, sign, whole = '', fracDigits = '', onlyFrac, exponentText] = match;
  const fraction = onlyFrac ?? fracDigits;
  const digits = BigInt(`${onlyFrac === undefined ? whole : ''}${fraction}` || '0');
  const negative = sign === '-';
  if (digits === 0n) return { ...kZero, negative };
  const exponent = (exponentText === undefined ? 0 : Number(exponentText)) - fraction.length;
  if (Math.abs(exponent) > kDecimalExponentLimit) return null;
  const value = exponent >= 0 ? round(negative, digits * 10n ** BigInt(exponent), 1n, 0) : round(negative, digits, 10n ** BigInt(-exponent), 0);
  return inRange(value);
}

function parseHex(match: RegExpExecArray): LongDouble | null {
  const [, sign, whole = '', fracDigits = '', onlyFrac, exponentText] = match;
  const fraction = onlyFrac ?? fracDigits;
  const digits = BigInt(`0x${onlyFrac === undefined ? whole : ''}${fraction}`);
  const binaryExponent = exponentText === undefined ? 0 : Number(exponentText);
  if (Math.abs(binaryExponent) > 4 * kDecimalExponentLimit) return null;
  return inRange(round(sign === '-', digits, 1n, binaryExponent - 4 * fraction.length));
}

/** Redis's string-to-long-double rule (see the header); null when refused. */
export function parseFloatText(text: string): FloatValue | null {
  if (text.length === 0 || text.length >= kFloatTextMaxBytes) return null;
  const decimal = kDecimalPattern.exec(text);
  if (decimal !== null) {
    const finite = parseDecimal(decimal);
    return finite === null ? null : { finite };
  }
  const hex = kHexPattern.exec(text);
  if (hex !== null) {
    const finite = parseHex(hex);
    return finite === null ? null : { finite };
  }
  const infinity = kInfinityPattern.exec(text);
  if (infinity !== null) return { infinite: infinity[1] === '-' ? -1 : 1 };
  return null;
}

function signed(value: LongDouble, shift: number): bigint {
  const magnitude = value.mantissa << BigInt(shift);
  return value.negative ? -magnitude : magnitude;
}

/** a + b rounded once to the format, or null when the sum is NaN or infinite. */
export function addFloatText(a: FloatValue, b: FloatValue): LongDouble | null {
  if (!('finite' in a) || !('finite' in b)) return null;
  const x = a.finite;
  const y = b.finite;
  if (x.mantissa === 0n) return y.mantissa === 0n ? { ...kZero, negative: x.negative && y.negative } : y;
  if (y.mantissa === 0n) return x;
  const base = Math.min(x.exponent, y.exponent);
  const sum = signed(x, x.exponent - base) + signed(y, y.exponent - base);
  // An exact zero sum is +0 in round-to-nearest.
  if (sum === 0n) return kZero;
  const result = round(sum < 0n, sum < 0n ? -sum : sum, 1n, base);
  return orderOf(result) > kMaxBinaryOrder ? null : result;
}

/** printf("%.17Lf") of the exact value, trimmed as Redis's ld2string does in human mode. */
export function formatFloatText(value: LongDouble): string {
  let scaled: bigint;
  if (value.exponent >= 0) scaled = (value.mantissa << BigInt(value.exponent)) * 10n ** BigInt(kFractionDigits);
  else {
    const shift = BigInt(-value.exponent);
    const exact = value.mantissa * 10n ** BigInt(kFractionDigits);
    scaled = exact >> shift;
    const rest = exact - (scaled << shift);
    const half = 1n << (shift - 1n);
    if (rest > half || (rest === half && (scaled & 1n) === 1n)) scaled += 1n;
  }
  const digits = scaled.toString().padStart(kFractionDigits + 1, '0');
  const whole = digits.slice(0, digits.length - kFractionDigits);
  const fraction = digits.slice(digits.length - kFractionDigits).replace(/0+$/, '');
  const text = fraction === '' ? whole : `${whole}.${fraction}`;
  return value.negative && text !== '0' ? `-${text}` : text;
}
