/**
 * Invariant assertions.
 *
 * Guarantees: `assert` is for frostkv's own invariants only (never for client input, config or
 * I/O, which get a FrostError with a stable code). A failed assertion means memory or logic is
 * already wrong, so the error is marked fatal: the server's top level exits on it rather than
 * keep serving from a table it can no longer trust.
 */

export class InvariantError extends Error {
  readonly code = 'FROSTKV_INVARIANT';
  readonly fatal = true;
  constructor(message: string) {
    super(`invariant violated: ${message}`);
    this.name = 'InvariantError';
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}
