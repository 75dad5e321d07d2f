/**
 * Redis glob patterns (KEYS, SCAN MATCH): `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, and `\` escapes,
 * matched against key bytes, as Redis's stringmatchlen does.
 *
 * Guarantees: matching is iterative with one backtrack point per `*`, so a hostile pattern
 * costs O(pattern * key) time, never exponential time.
 */

const kStar = 0x2a;
const kQuestion = 0x3f;
const kOpen = 0x5b;
const kClose = 0x5d;
const kCaret = 0x5e;
const kDash = 0x2d;
const kBackslash = 0x5c;

/** Match one `[...]` class at pattern[p] (p points at '['); returns [matched, index after ']']. */
function matchClass(pattern: Uint8Array, p: number, byte: number): [boolean, number] {
  let i = p + 1;
  let negate = false;
  if (pattern[i] === kCaret) {
    negate = true;
    i++;
  }
  let matched = false;
  while (i < pattern.length && pattern[i] !== kClose) {
    if (pattern[i] === kBackslash && i + 1 < pattern.length) {
      i++;
      if (pattern[i] === byte) matched = true;
      i++;
    } else if (i + 2 < pattern.length && pattern[i + 1] === kDash) {
      // As Redis's stringmatchlen: `x-y` is a range whatever y is, even `]`.
      let low = pattern[i] as number;
      let high = pattern[i + 2] as number;
      if (low > high) [low, high] = [high, low];
      if (byte >= low && byte <= high) matched = true;
      i += 3;
    } else {
      if (pattern[i] === byte) matched = true;
      i++;
    }
  }
  // An unterminated class ends at the pattern's end, as in Redis.
  return [negate ? !matched : matched, Math.min(i + 1, pattern.length)];
}

export function globMatch(pattern: Uint8Array, key: Uint8Array, keyOffset = 0, keyLength = key.length): boolean {
  let p = 0;
  let k = keyOffset;
  const end = keyOffset + keyLength;
  let starP = -1;
  let starK = -1;
  while (k < end) {
    if (p < pattern.length) {
      const c = pattern[p] as number;
      if (c === kStar) {
        while (p < pattern.length && pattern[p] === kStar) p++;
        if (p === pattern.length) return true;
        starP = p;
        starK = k;
        continue;
      }
      const byte = key[k] as number;
      if (c === kQuestion) {
        p++;
        k++;
        continue;
      }
      if (c === kOpen) {
        const [matched, after] = matchClass(pattern, p, byte);
        if (matched) {
          p = after;
          k++;
          continue;
        }
      } else if (c === kBackslash && p + 1 < pattern.length) {
        if (pattern[p + 1] === byte) {
          p += 2;
          k++;
          continue;
        }
      } else if (c === byte) {
        p++;
        k++;
        continue;
      }
    }
    if (starP < 0) return false;
    p = starP;
    starK++;
    k = starK;
  }
  while (p < pattern.length && pattern[p] === kStar) p++;
  return p === pattern.length;
}

export function isMatchAll(pattern: Uint8Array): boolean {
  return pattern.length === 1 && pattern[0] === kStar;
}
