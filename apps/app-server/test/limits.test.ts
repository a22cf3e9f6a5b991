/** The pure pieces of the request bounds: nesting depth and the id of a cut-off message. */
import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds, leadingRequestId } from '../src/server/limits.js';

describe('jsonDepthExceeds', () => {
  it('counts arrays and objects outside strings only', () => {
    expect(jsonDepthExceeds(`${'['.repeat(128)}${']'.repeat(128)}`)).toBe(false);
    expect(jsonDepthExceeds(`${'['.repeat(129)}${']'.repeat(129)}`)).toBe(true);
    expect(jsonDepthExceeds(`${'{"a":'.repeat(129)}1${'}'.repeat(129)}`)).toBe(true);
    expect(jsonDepthExceeds(JSON.stringify({ s: '['.repeat(500) }))).toBe(false);
    expect(jsonDepthExceeds(JSON.stringify({ s: `\\"${'{'.repeat(500)}` }))).toBe(false);
  });
});

describe('leadingRequestId', () => {
  it('reads a top-level id from the first bytes of a message', () => {
    expect(leadingRequestId('{"id":7,"method":"x","params":{"name":"nnnn')).toBe(7);
    expect(leadingRequestId('{ "method":"x", "id" : "a\\"b", "params":{')).toBe('a"b');
    expect(leadingRequestId('{"method":"x","params":{"id":3,"name":"nnn')).toBeNull();
    expect(leadingRequestId('{"method":"x","params":{"name":"nnnnnnnn')).toBeNull();
    expect(leadingRequestId('{"id":1.5,"method":"x"')).toBeNull();
    expect(leadingRequestId('{"threadId":"id","id":-4,')).toBe(-4);
    expect(leadingRequestId('xxxxxxxx')).toBeNull();
  });
});
