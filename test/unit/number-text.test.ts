// Header numbers made without V8's number-string cache: counts as String() writes them; USD as
// String()'s text wherever String() writes a plain decimal, a plain decimal below that, and always
// the same number back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { countText, usdText } from '../../src/number-text';

test('from 1e-6 to 1e6 USD: exactly the text String() gives (fast-check)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1_000, max: 999_999_999_999_999 }), (n) => {
      assert.equal(usdText(n), String(n / 1e9));
      assert.equal(usdText(-n), String(-n / 1e9));
    }),
    { numRuns: 20_000 },
  );
});

test('any amount reads back as the same number (fast-check)', () => {
  fc.assert(
    fc.property(fc.integer({ min: -999_999_999_999_999, max: 999_999_999_999_999 }), (n) => {
      assert.equal(Number(usdText(n)), n / 1e9);
    }),
    { numRuns: 20_000 },
  );
});

test('zero, whole dollars, and amounts below 1e-6 USD as plain decimals', () => {
  assert.equal(usdText(0), '0');
  assert.equal(usdText(-0), '0');
  assert.equal(usdText(1e9), '1');
  assert.equal(usdText(25e9), '25');
  assert.equal(usdText(1_500_000_000), '1.5');
  assert.equal(usdText(1), '0.000000001');
  assert.equal(usdText(123), '0.000000123');
  assert.equal(usdText(-120), '-0.00000012');
  assert.equal(usdText(33_000), '0.000033');
});

test('counts: the text String() gives (fast-check)', () => {
  fc.assert(
    fc.property(fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (n) => assert.equal(countText(n), String(n))),
    { numRuns: 20_000 },
  );
  assert.equal(countText(0), '0');
});
