import { describe, expect, it } from 'vitest';
import { countOf } from '../../src/util/words.js';

describe('counts in CLI messages', () => {
  it('agree with their noun', () => {
    expect(countOf(1, 'key')).toBe('1 key');
    expect(countOf(0, 'key')).toBe('0 keys');
    expect(countOf(1000, 'file')).toBe('1000 files');
    expect(countOf(2, 'entry', 'entries')).toBe('2 entries');
  });
});
