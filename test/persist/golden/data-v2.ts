/**
 * What the golden format-2 save (test/persist/golden/v2) holds, as a pure generator: strings
 * with and without expiry times, a list table, a small hash and a large one (a collection
 * table). Expiry times are far in the future (2100), so the save loads the same forever.
 */
export const kV2FarFutureMs = 4_102_444_800_000;
export const kV2StringKeys = 300;
export const kV2LargeHashFields = 1_000;

export interface GoldenV2String {
  key: string;
  value: string;
  /** 0: no expiry. */
  expiresAtMs: number;
}

export function goldenV2Strings(): GoldenV2String[] {
  const out: GoldenV2String[] = [];
  for (let i = 0; i < kV2StringKeys; i++) {
    out.push({ key: `s:${i}`, value: `value-${i}-${'z'.repeat(i % 50)}`, expiresAtMs: i % 3 === 0 ? kV2FarFutureMs + i : 0 });
  }
  out.push({ key: 'big', value: 'B'.repeat(10_000), expiresAtMs: kV2FarFutureMs + 1_000_000 });
  return out;
}

export const kV2SmallHash: Array<[string, string]> = [['name', 'Ada'], ['lang', 'en'], ['empty', '']];

export function goldenV2LargeHash(): Array<[string, string]> {
  return Array.from({ length: kV2LargeHashFields }, (_, i) => [`field-${i}`, `v${i}`] as [string, string]);
}

export const kV2Lists: Array<[string, string[]]> = [['l1', ['a', 'b', 'c']], ['l2', []]];
