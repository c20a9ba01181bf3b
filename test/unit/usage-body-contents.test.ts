// The usage object of a non-streamed answer: whatever its members hold
// (integers, nulls, nested details, floats, strings, negative or unsafe numbers, escaped or
// repeated names, invalid numbers, odd whitespace), usageFromOpenAIBody / usageFromAnthropicBody
// say what JSON.parse of the whole body followed by the dialect's reading of its `usage` says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { anthropicUsageFromObject, openaiUsageFromObject, usageFromAnthropicBody, usageFromOpenAIBody, type BodyUsage } from '../../src/accounting/usage-body';
import type { TokenUsage } from '../../src/accounting/usage-types';

const NAMES = [
  'prompt_tokens', 'completion_tokens', 'total_tokens', 'input_tokens', 'output_tokens', 'cached_tokens', 'cache_creation_tokens',
  'cache_read_input_tokens', 'cache_creation_input_tokens', 'prompt_cache_hit_tokens', 'ephemeral_1h_input_tokens', 'reasoning_tokens',
  '\\u0070rompt_tokens', 'input\\u005ftokens', 'other',
];
const NESTED = ['prompt_tokens_details', 'input_tokens_details', 'completion_tokens_details', 'cache_creation', 'server_tool_use'];
const space = fc.constantFrom('', ' ', '\n  ', '\t');
const scalar = fc.oneof(
  fc.nat().map(String),
  fc.constantFrom('0', 'null', '-3', '1.5', '1e3', '2E+2', '"7"', 'true', 'false', '[]', '[1,2]', '01', '9007199254740993', '123456789012345678901', '-0', '{}', '"a\\"b"'),
);
const member = (value: fc.Arbitrary<string>) => fc.tuple(fc.constantFrom(...NAMES), space, value, space).map(([k, s1, v, s2]) => `"${k}"${s1}:${s2}${v}`);
const inner = fc.array(member(scalar), { maxLength: 4 }).map((ms) => `{${ms.join(',')}}`);
const outerMember = fc.oneof(member(scalar), fc.tuple(fc.constantFrom(...NESTED), space, fc.oneof(inner, scalar)).map(([k, s, v]) => `"${k}":${s}${v}`));
const usageText = fc.oneof(
  fc.array(outerMember, { maxLength: 8 }).chain((ms) => space.map((s) => `{${s}${ms.join(`,${s}`)}${s}}`)),
  fc.constantFrom('null', '[]', '7', '"usage"'),
);

function oracle(text: string, toUsage: (u: unknown) => TokenUsage | undefined): BodyUsage {
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch {
    return { id: undefined, usage: undefined };
  }
  const o = whole as { id?: unknown; usage?: unknown };
  return { id: typeof o.id === 'string' ? o.id : undefined, usage: toUsage(o.usage) };
}

test('a usage object of any contents reads as JSON.parse reads it, in both dialects (fast-check)', () => {
  fc.assert(
    fc.property(usageText, fc.boolean(), (usage, last) => {
      const text = last
        ? `{"id":"chatcmpl-1","object":"chat.completion","model":"m","choices":[],"usage":${usage}}`
        : `{"id":"msg_1","model":"m","usage":${usage},"system_fingerprint":"fp"}`;
      const b = Buffer.from(text);
      assert.deepEqual(usageFromOpenAIBody(b), oracle(text, openaiUsageFromObject), text);
      assert.deepEqual(usageFromAnthropicBody(b), oracle(text, anthropicUsageFromObject), text);
    }),
    { numRuns: 3000 },
  );
});

test('the answers the bench and the mock send: usage with nested details', () => {
  const text = '{"id":"chatcmpl-a1","object":"chat.completion","created":1,"model":"bench-gpt","choices":[{"index":0,"message":{"role":"assistant","content":"tok0"},"finish_reason":"stop"}],"usage":{"prompt_tokens":25,"completion_tokens":16,"total_tokens":41,"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":0}},"system_fingerprint":"fp_x"}';
  assert.deepEqual(usageFromOpenAIBody(Buffer.from(text)), {
    id: 'chatcmpl-a1',
    usage: { promptIncludesCache: true, prompt_tokens: 25, completion_tokens: 16, cache_read_input_tokens: 3, cache_creation_input_tokens: 0 },
  });
});
