// The request body scan is linear in the body, whatever the body: its steps (bytes examined,
// src/scan-steps.ts) stay under a fixed multiple of the body's length on hostile bodies generated
// by fast-check (many short keys, escaped keys, keys repeated at every depth, deep nesting, long
// runs of backslashes) and on those bodies damaged anywhere. No timing: the work is counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ROUTING_PARAMS, scanBody, takeMembers } from '../../src/gateway/body-scan';
import { assertLinear, bodyRecipe, buildBody, counted, damage, damaged } from './linear-helpers';

/**
 * Steps per body byte: the walk (1), the backslashes looked back over (1), and a key's bytes
 * compared, searched for an escape and decoded, or a value decoded (at most 4 more). Measured: at
 * most 3.0 on the generated bodies (the old scan: 60,772 on the 0.87 MB body below).
 */
const C = 6;

test('scanBody: linear on hostile bodies (fast-check)', () => {
  fc.assert(
    fc.property(bodyRecipe, (r) => {
      const b = buildBody(r);
      const { steps, value } = counted(() => scanBody(b, true));
      assert.equal(value.error, undefined, value.error);
      assertLinear('scanBody', b.length, steps, C);
    }),
  );
});

test('scanBody: linear on damaged bodies (cut, or a byte replaced or dropped anywhere)', () => {
  fc.assert(
    fc.property(bodyRecipe, damage, (r, d) => {
      const b = damaged(buildBody(r), d);
      const { steps } = counted(() => scanBody(b, true));
      assertLinear('scanBody', b.length, steps, C);
    }),
  );
});

test('takeMembers: linear on hostile bodies that carry routing parameters', () => {
  fc.assert(
    fc.property(bodyRecipe, (r) => {
      const b = buildBody({ ...r, tail: '"fallbacks":["a",{"model":"b"}],"disable_fallbacks":false' });
      const { steps } = counted(() => takeMembers(b, ROUTING_PARAMS));
      assertLinear('takeMembers', b.length, steps, C);
    }),
  );
});

test('a 0.87 MB body of 90,000 short keys: each key was searched for a backslash to the end of the body', () => {
  const members: string[] = [];
  let size = 0;
  for (let i = 0; size < 870_000; i++) {
    const m = `"k${i}":${i}`;
    members.push(m);
    size += m.length + 1;
  }
  const b = Buffer.from(`{"model":"m",${members.join(',')}}`);
  const { steps, value } = counted(() => scanBody(b));
  assert.equal(value.model, 'm');
  assertLinear('scanBody, 0.87 MB of keys', b.length, steps, C);
});

test('keys with long backslash runs, escaped keys and deep nesting, each 1 MB', () => {
  const bodies = [
    `{${Array.from({ length: 20_000 }, (_, i) => `"${'\\\\'.repeat(20)}${i}":1`).join(',')},"model":"m"}`,
    `{${Array.from({ length: 60_000 }, () => '"mod\\u0065l":"x"').join(',')}}`,
    `{"a":${'[{"model":'.repeat(100_000)}1${'}]'.repeat(100_000)},"model":"m"}`,
    `{"s":"${'\\\\'.repeat(500_000)}","model":"m"}`,
  ];
  for (const text of bodies) {
    const b = Buffer.from(text);
    const { steps, value } = counted(() => scanBody(b));
    assert.equal(value.error, undefined);
    assertLinear(`scanBody, ${text.slice(0, 30)}…`, b.length, steps, C);
  }
});
