// Call ids (src/gateway/call-id.ts): UUID v4 in randomUUID's format, distinct across many pool
// refills, each string its own (the scratch buffer they are written in is reused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newCallId } from '../../src/gateway/call-id';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('every id is a lower-case UUID v4 with the RFC 4122 variant, and none repeats over 40 pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 128 * 40; i++) {
    const id = newCallId();
    assert.match(id, V4);
    seen.add(id);
  }
  assert.equal(seen.size, 128 * 40);
});

test('an id kept stays as it was when later ids are made', () => {
  const first = newCallId();
  const copy = `${first}`;
  for (let i = 0; i < 300; i++) newCallId();
  assert.equal(first, copy);
  assert.equal(first.length, 36);
});

test('the random bits are spread: each hex digit position outside the fixed ones takes all 16 values', () => {
  const counts = Array.from({ length: 36 }, () => new Set<string>());
  for (let i = 0; i < 4000; i++) {
    const id = newCallId();
    for (let j = 0; j < 36; j++) counts[j]!.add(id[j]!);
  }
  for (let j = 0; j < 36; j++) {
    if ([8, 13, 18, 23].includes(j)) assert.deepEqual([...counts[j]!], ['-']);
    else if (j === 14) assert.deepEqual([...counts[j]!], ['4']);
    else if (j === 19) assert.deepEqual([...counts[j]!].sort(), ['8', '9', 'a', 'b']);
    else assert.equal(counts[j]!.size, 16, `position ${j}`);
  }
});
