/**
 * The PostgreSQL substring predicate is a LIKE pattern; its escaping decides whether a term with
 * wildcards matches literally. (Behaviour against a real PostgreSQL is tested in
 * @skein/thread-store-postgres, test/search-index.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { likeSubstringPattern } from '../src/dialect.js';

describe('likeSubstringPattern', () => {
  it('escapes LIKE wildcards and the escape character, and nothing else', () => {
    expect(likeSubstringPattern('plain text')).toBe('%plain text%');
    expect(likeSubstringPattern('50%')).toBe('%50\\%%');
    expect(likeSubstringPattern('a_b')).toBe('%a\\_b%');
    expect(likeSubstringPattern('C:\\dir')).toBe('%C:\\\\dir%');
    expect(likeSubstringPattern('\\%_')).toBe('%\\\\\\%\\_%');
    expect(likeSubstringPattern('it\'s "x" 日本 😀')).toBe('%it\'s "x" 日本 😀%');
  });
});
