// The translated body's faster decode and encode must give exactly what the plain calls give:
// the same string for any bytes (valid UTF-8 or not), the same bytes for any value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyText, jsonBytes } from '../../src/gateway/json-body';

/** A deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['const x = "y";\n', 'résumé ', '→ ✓ ', '😀', '\\u001b[0m', 'plain ascii text ', '\t', '中文 ', '\u0000', '\ud800', '\udfff'];

function text(r: () => number, chars: number): string {
  let s = '';
  while (s.length < chars) s += PIECES[Math.floor(r() * PIECES.length)]!;
  return s;
}

test('bodyText equals toString("utf8") for ASCII, mixed and large UTF-8 bodies', () => {
  const r = rng(7);
  for (const n of [0, 10, 5000, 20_000, 200_000]) {
    const ascii = Buffer.from('a'.repeat(n));
    assert.equal(bodyText(ascii), ascii.toString('utf8'));
    const mixed = Buffer.from(JSON.stringify({ t: text(r, n) }));
    assert.equal(bodyText(mixed), mixed.toString('utf8'), `mixed ${n}`);
  }
});

test('bodyText equals toString("utf8") for invalid UTF-8 (replacement characters included)', () => {
  const r = rng(11);
  for (let k = 0; k < 200; k++) {
    const b = Buffer.from(text(r, 6000));
    for (let i = 0; i < 20; i++) b[Math.floor(r() * b.length)] = 0x80 + Math.floor(r() * 0x80); // stray high bytes
    assert.equal(bodyText(b), b.toString('utf8'));
  }
  const truncated = Buffer.concat([Buffer.from('x'.repeat(5000)), Buffer.from('✓').subarray(0, 2)]);
  assert.equal(bodyText(truncated), truncated.toString('utf8'));
});

test('jsonBytes equals Buffer.from(JSON.stringify(v)), lone surrogates and scratch reuse included', () => {
  const r = rng(3);
  const seen: Buffer[] = [];
  const wants: Buffer[] = [];
  for (const n of [1, 3000, 5000, 60_000, 10_000, 300_000]) {
    const v = { model: 'm', messages: [{ role: 'user', content: text(r, n) }], n };
    const got = jsonBytes(v);
    const want = Buffer.from(JSON.stringify(v));
    assert.ok(got.equals(want), `size ${n}`);
    seen.push(got);
    wants.push(want);
  }
  // Each result is its own copy: later calls did not overwrite earlier ones.
  seen.forEach((b, i) => assert.ok(b.equals(wants[i]!), `result ${i} unchanged`));
  const huge = { s: 'é'.repeat(1_500_000) }; // past the scratch buffer's cap: the plain path
  assert.ok(jsonBytes(huge).equals(Buffer.from(JSON.stringify(huge))));
});
