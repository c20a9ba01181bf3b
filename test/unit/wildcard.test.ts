// Wildcard model_name patterns: the same matches and captures as the regular expression they
// replace (`^lit(.*)lit(.*)lit$`, each `(.*)` greedy), checked by fast-check on small names and
// patterns, and linear in the name, counted in steps (src/scan-steps.ts), on the names that make
// that regular expression try every split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Wildcard } from '../../src/gateway/wildcard';
import { assertLinear, counted } from './linear-helpers';

/** The regular expression the patterns used to compile to. */
function regex(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('(.*)');
  return new RegExp(`^${body}$`, 's');
}

test('each * captures, everything else is literal and anchored', () => {
  assert.deepEqual(new Wildcard('anthropic/*').match('anthropic/claude-x'), ['claude-x']);
  assert.deepEqual(new Wildcard('fo::*:static::*').match('fo::a:static::b/c'), ['a', 'b/c']);
  assert.equal(new Wildcard('gpt-4.1*').match('gpt-4x1-mini'), null, 'the dot is literal');
  assert.deepEqual(new Wildcard('*').match('anything/at all'), ['anything/at all']);
  assert.equal(new Wildcard('a/*').match('b/a/x'), null, 'anchored');
  assert.deepEqual(new Wildcard('*-*').match('a-b-c'), ['a-b', 'c'], 'the first * takes the most it can');
  assert.deepEqual(new Wildcard('a**b').match('axyb'), ['xy', '']);
  assert.deepEqual(new Wildcard('ab*ba').match('aba'), null, 'the literal parts do not overlap');
  assert.deepEqual(new Wildcard('exact').match('exact'), []);
  assert.equal(new Wildcard('exact').test('exactly'), false);
});

test('the same matches and captures as the regular expression (fast-check)', () => {
  const pattern = fc.string({ unit: fc.constantFrom('a', 'b', '-', '/', '*', '.'), maxLength: 8 });
  const name = fc.string({ unit: fc.constantFrom('a', 'b', '-', '/', '.', '\n'), maxLength: 14 });
  fc.assert(
    fc.property(pattern, name, (p, n) => {
      const m = regex(p).exec(n);
      assert.deepEqual(new Wildcard(p).match(n), m === null ? null : m.slice(1), `${JSON.stringify(p)} on ${JSON.stringify(n)}`);
    }),
    { numRuns: 5000 },
  );
});

test('linear in the name on names that make the regular expression try every split', () => {
  const n = 1_000_000;
  const cases: [string, string][] = [
    ['*-*-x', '-'.repeat(n)],
    ['fo::*:static::*x', 'fo::' + ':static::'.repeat(n / 10)],
    ['*/*/*x', '/'.repeat(n)],
    ['*a*a*a*b', 'a'.repeat(n)],
    ['*-*-x', '-'.repeat(n) + 'x'],
  ];
  for (const [p, name] of cases) {
    const { steps } = counted(() => new Wildcard(p).match(name));
    assertLinear(`${p} on ${name.length} characters`, name.length, steps, 3);
  }
});
