/**
 * Seeded randomness for tests: every randomized test prints its seed when it fails and can be
 * replayed with FROSTKV_SEED=<seed>.
 */

export class Rng {
  private state: number;
  readonly seed: number;
  constructor(seed: number) {
    this.seed = seed >>> 0;
    // Mix the seed first (murmur3's finalizer): xorshift from small or similar seeds starts
    // out nearly the same, so consecutive seeds would explore nearly the same runs.
    let x = this.seed ^ 0x9e3779b9;
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    this.state = (x ^ (x >>> 16)) >>> 0 || 0x9e3779b9;
  }
  /** xorshift32: uniform 32-bit integers. */
  nextU32(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
  float(): number {
    return this.nextU32() / 0x100000000;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.float() * maxExclusive);
  }
  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = this.nextU32() & 0xff;
    return out;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

export function testSeed(): number {
  const fromEnv = process.env.FROSTKV_SEED;
  if (fromEnv !== undefined && fromEnv !== '') return Number(fromEnv) >>> 0;
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** Run `body` with a seeded Rng; on failure the error names the seed to replay. */
export async function withSeed(body: (rng: Rng) => void | Promise<void>, seed = testSeed()): Promise<void> {
  try {
    await body(new Rng(seed));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n(replay with FROSTKV_SEED=${seed})`, { cause: error });
  }
}
