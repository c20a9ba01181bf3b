// The nesting bound of translated requests (gateway/json-depth.ts): the depth read from the bytes
// must be the depth of the parsed value, whatever the strings hold, and the walk must stop at the
// first level past the limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../src/gateway/json-depth';

/** Depth of a parsed value, recursively (the reference; values here are shallow). */
function depthOf(v: unknown): number {
  if (Array.isArray(v)) return 1 + v.reduce((m: number, x) => Math.max(m, depthOf(x)), 0);
  if (typeof v === 'object' && v !== null) return 1 + Object.values(v).reduce((m: number, x) => Math.max(m, depthOf(x)), 0);
  return 0;
}

const bytes = (s: string) => Buffer.from(s);

test('any JSON value: deeper than d exactly when its parsed depth is over d', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 8 }), fc.nat(10), fc.boolean(), (v, d, pretty) => {
      const text = pretty ? JSON.stringify(v, null, 2) : JSON.stringify(v);
      assert.equal(nestsDeeperThan(bytes(text), d), depthOf(v) > d, text);
    }),
    { numRuns: 2000 },
  );
});

test('brackets and quotes inside strings do not count', () => {
  assert.equal(nestsDeeperThan(bytes('{"a":"[[[[{{{{"}'), 1), false);
  assert.equal(nestsDeeperThan(bytes('{"a":"\\"[[[[\\\\"}'), 1), false, 'escaped quotes and backslashes');
  assert.equal(nestsDeeperThan(bytes('{"a\\"[[":["]]]]\\\\",[1]]}'), 2), true);
  assert.equal(nestsDeeperThan(bytes('{"a\\"[[":["]]]]\\\\",[1]]}'), 3), false);
});

test('the limit itself passes, one level more does not', () => {
  const nest = (n: number) => bytes('['.repeat(n) + ']'.repeat(n));
  assert.equal(nestsDeeperThan(nest(MAX_JSON_DEPTH), MAX_JSON_DEPTH), false);
  assert.equal(nestsDeeperThan(nest(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH), true);
  assert.equal(nestsDeeperThan(nest(100_000), MAX_JSON_DEPTH), true);
});

test('malformed bytes are left to the parser: an unterminated string or unbalanced brackets are not "too deep"', () => {
  assert.equal(nestsDeeperThan(bytes('{"a":"never ends'), 1), false);
  assert.equal(nestsDeeperThan(bytes(']]]]{'), 1), false);
  assert.equal(nestsDeeperThan(bytes(''), 0), false);
});
