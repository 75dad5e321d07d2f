/**
 * src/auth/tokens.ts and users.ts: Skytable 0.7.7's token shape, digests at rest, and that
 * every secret comparison goes through crypto.timingSafeEqual over fixed-length digests (a
 * check of which function runs, not a timing measurement).
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { UserStore, isLegalUserName } from '../../src/auth/users.js';
import { bcryptBase64, generateToken, kTokenLength, secretCompare, tokenMatches } from '../../src/auth/tokens.js';
import { AuthService } from '../../src/auth/provider.js';
import { open } from '../../src/database.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('tokens', () => {
  it('are 40 random bytes in padded bcrypt-alphabet base64 (56 characters), stored as SHA-256', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { token, digest } = generateToken();
      expect(token).toMatch(/^[./A-Za-z0-9]{54}==$/);
      expect(token).toHaveLength(kTokenLength);
      expect(digest.equals(createHash('sha256').update(token).digest())).toBe(true);
      seen.add(token);
    }
    expect(seen.size).toBe(200);
    // The bcrypt alphabet maps 0 -> '.', 1 -> '/', 63 -> '9'.
    expect(bcryptBase64(Buffer.from([0, 0, 0]))).toBe('....');
    expect(bcryptBase64(Buffer.from([0xff, 0xff, 0xff]))).toBe('9999');
    expect(bcryptBase64(Buffer.from([0x00, 0x10, 0x83]))).toBe('./AB');
  });

  it('compares through crypto.timingSafeEqual with two 32-byte digests, for good, bad and unknown', () => {
    expect(secretCompare.equal).toBe(timingSafeEqual);
    const spy = vi.spyOn(secretCompare, 'equal');
    const engine = new Engine();
    const users = new UserStore(engine);
    const { token, digest } = generateToken();
    users.insert('root', digest);
    expect(users.verify(Buffer.from('root'), Buffer.from(token))).toBe(true);
    expect(users.verify(Buffer.from('root'), Buffer.from(token.slice(1)))).toBe(false);
    expect(users.verify(Buffer.from('nobody'), Buffer.from(token))).toBe(false);
    expect(users.verify(Buffer.from('x'.repeat(41)), Buffer.from(token))).toBe(false);
    expect(spy).toHaveBeenCalledTimes(4);
    for (const [a, b] of spy.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
    expect(tokenMatches(Buffer.from(token), Buffer.alloc(5))).toBe(false);
  });

  it('checks the origin key through the same comparison, over digests of fixed length', async () => {
    const origin = 'abcdefghijklmnopqrstuvwxyz0123456789ABCD';
    const db = await open({ auth: { originKey: origin } }, { inMemory: true });
    try {
      const service = new AuthService(db);
      const spy = vi.spyOn(secretCompare, 'equal');
      expect(() => service.verifyOrigin(Buffer.from(origin))).not.toThrow();
      expect(() => service.verifyOrigin(Buffer.from(origin.slice(1)))).toThrow(expect.objectContaining({ kind: 'bad-credentials' }));
      expect(() => service.verifyOrigin(Buffer.from(`${origin}x`))).toThrow(expect.objectContaining({ kind: 'bad-credentials' }));
      expect(spy).toHaveBeenCalledTimes(3);
      for (const [a, b] of spy.mock.calls) expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);
    } finally {
      await db.close();
    }
  });

  it('keeps only the digest in the auth table, and counts changes for the save scheduler', () => {
    const engine = new Engine();
    const users = new UserStore(engine);
    const before = engine.changeCount;
    const { token, digest } = generateToken();
    expect(users.insert('app', digest)).toBe(true);
    expect(users.insert('app', digest)).toBe(false);
    expect(users.digestOf('app')?.equals(digest)).toBe(true);
    expect(users.digestOf('app')?.includes(Buffer.from(token))).toBe(false);
    expect(engine.changeCount).toBe(before + 1);
    expect(engine.keyspaceNames()).not.toContain('system');
    expect(engine.freeze().keyspaces).toContain('system');
  });

  it('accepts user names of 1 to 40 ASCII bytes', () => {
    expect(isLegalUserName(Buffer.from('a'))).toBe(true);
    expect(isLegalUserName(Buffer.from('a b\t'))).toBe(true);
    expect(isLegalUserName(Buffer.from('x'.repeat(40)))).toBe(true);
    expect(isLegalUserName(Buffer.from('x'.repeat(41)))).toBe(false);
    expect(isLegalUserName(Buffer.from(''))).toBe(false);
    expect(isLegalUserName(Buffer.from('é'))).toBe(false);
  });
});
