// The usage code that reads bodies without parsing them is linear in the body: the
// include_usage splice of a request (with and without the span the body scan recorded), the
// search for a top-level member from the end, and the usage of a non-streamed answer. Steps are
// counted (src/scan-steps.ts) on hostile bodies from fast-check, damaged ones too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { includeUsageEdit } from '../../src/accounting/usage-include';
import { usageFromAnthropicBody, usageFromOpenAIBody } from '../../src/accounting/usage-body';
import { findTopLevelMemberFromEnd } from '../../src/accounting/usage-json';
import { scanBody } from '../../src/gateway/body-scan';
import { assertLinear, bodyRecipe, buildBody, counted, damage, damaged } from './linear-helpers';

/**
 * Steps per byte: the search from the end (1), the failed proofs it allows (the window's length)
 * and the forward walk it then falls back to, with their look-backs, and the callers' own parse of
 * what they found. Measured: at most 6.8 on the generated bodies (the old search: 17,895 on the
 * nested stream_options below).
 */
const C = 12;

const KEYS = ['"stream_options"', '"usage"', '"model"', '"include_usage"'].map((k) => Buffer.from(k));

test('includeUsageEdit: linear, with the body scan and without it (fast-check)', () => {
  fc.assert(
    fc.property(bodyRecipe, (r) => {
      const b = buildBody(r);
      const scanned = counted(() => includeUsageEdit(b, { ...scanBody(b), stream: true }));
      assertLinear('scanBody + includeUsageEdit', b.length, scanned.steps, C);
      const searched = counted(() => includeUsageEdit(b, { stream: true }));
      assertLinear('includeUsageEdit (search from the end)', b.length, searched.steps, C);
      assert.deepEqual(scanned.value, searched.value, 'the span the scan recorded is the one the search finds');
    }),
  );
});

test('findTopLevelMemberFromEnd: linear on hostile and damaged bodies, for every key (fast-check)', () => {
  fc.assert(
    fc.property(bodyRecipe, damage, fc.boolean(), (r, d, hurt) => {
      const whole = buildBody(r);
      const b = hurt ? damaged(whole, d) : whole;
      for (const key of KEYS) {
        const { steps } = counted(() => findTopLevelMemberFromEnd(b, 0, b.length, key));
        assertLinear(`findTopLevelMemberFromEnd ${key}`, b.length, steps, C);
      }
    }),
  );
});

test('usage of a non-streamed answer: linear on hostile and damaged bodies (fast-check)', () => {
  fc.assert(
    fc.property(bodyRecipe, damage, fc.boolean(), (r, d, hurt) => {
      const whole = buildBody(r);
      const b = hurt ? damaged(whole, d) : whole;
      const o = counted(() => usageFromOpenAIBody(b));
      assertLinear('usageFromOpenAIBody', b.length, o.steps, C);
      const a = counted(() => usageFromAnthropicBody(b));
      assertLinear('usageFromAnthropicBody', b.length, a.steps, C);
    }),
  );
});

test('stream_options nested 20,000 deep (0.38 MB): every level was walked to the end of the body', () => {
  const depth = 20_000;
  const b = Buffer.from(`{"stream":true,"x":${'{"stream_options":'.repeat(depth)}1${'}'.repeat(depth)}}`);
  assert.ok(b.length > 370_000);
  const { steps, value } = counted(() => includeUsageEdit(b, { stream: true }));
  assert.equal(value.edit?.insert, ',"stream_options":{"include_usage":true}', 'no top-level stream_options: one is added');
  assertLinear('includeUsageEdit, nested stream_options', b.length, steps, C);
  const withScan = counted(() => includeUsageEdit(b, scanBody(b)));
  assert.deepEqual(withScan.value, value);
  assertLinear('scanBody + includeUsageEdit, nested stream_options', b.length, withScan.steps, C);
});

test('40,000 stream_options members of one nested object, and usage keys nested 20,000 deep in an answer', () => {
  const flat = Buffer.from(`{"stream":true,"x":{${Array.from({ length: 40_000 }, () => '"stream_options":1').join(',')}}}`);
  const f = counted(() => includeUsageEdit(flat, { stream: true }));
  assert.equal(f.value.edit?.at, flat.length - 1);
  assertLinear('includeUsageEdit, flat nested stream_options', flat.length, f.steps, C);
  const depth = 20_000;
  const answer = Buffer.from(`{"id":"chatcmpl-1","model":"gpt-4o","choices":[{"message":${'{"usage":'.repeat(depth)}1${'}'.repeat(depth)}}],"usage":{"prompt_tokens":3,"completion_tokens":4}}`);
  const u = counted(() => usageFromOpenAIBody(answer));
  assert.equal(u.value.usage?.completion_tokens, 4);
  assertLinear('usageFromOpenAIBody, nested usage keys', answer.length, u.steps, C);
  const noUsage = Buffer.from(`{"id":"msg_1","content":[${Array.from({ length: 30_000 }, () => '{"usage":{"usage":1}}').join(',')}]}`);
  const n = counted(() => usageFromAnthropicBody(noUsage));
  assert.equal(n.value.usage, undefined);
  assertLinear('usageFromAnthropicBody, decoy usage objects', noUsage.length, n.steps, C);
});
