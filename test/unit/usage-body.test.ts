// usageFromOpenAIBody / usageFromAnthropicBody: id and usage of non-streamed answers read
// without parsing the body. JSON.parse is the oracle: whatever it says the top-level `usage` and `id`
// are, the fast path must say too — for realistic bodies, decoys nested in content
// and tool inputs, usage anywhere in the object, odd whitespace, and bodies that are not JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { usageFromAnthropicBody, usageFromOpenAIBody, openaiUsageFromObject, anthropicUsageFromObject } from '../../src/accounting/usage-body';
import { scanSteps } from '../../src/scan-steps';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/pricing');

test('OpenAI chat completion: cached tokens, decoys in content and tool arguments', () => {
  const body = readFileSync(path.join(FIXTURES, 'openai-chat-body.json'));
  assert.deepEqual(usageFromOpenAIBody(body), {
    id: 'chatcmpl-C3kYw2ZP8mQn1rTfV6hLd0aXbE9sJ',
    usage: { promptIncludesCache: true, prompt_tokens: 2345, completion_tokens: 187, cache_read_input_tokens: 1920, cache_creation_input_tokens: 0 },
  });
});

test('Anthropic message: cache reads and writes, a real nested `usage` object in tool input', () => {
  const body = readFileSync(path.join(FIXTURES, 'anthropic-messages-body.json'));
  assert.deepEqual(usageFromAnthropicBody(body), {
    id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
    usage: { promptIncludesCache: false, prompt_tokens: 12, completion_tokens: 245, cache_read_input_tokens: 18000, cache_creation_input_tokens: 2048 },
  });
});

test('Anthropic one-hour cache writes are kept apart', () => {
  const body = Buffer.from(JSON.stringify({ id: 'msg_1', type: 'message', model: 'claude-opus-4-5', content: [], usage: { input_tokens: 3, output_tokens: 4, cache_creation_input_tokens: 1000, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 250, ephemeral_1h_input_tokens: 750 } } }));
  assert.equal(usageFromAnthropicBody(body).usage?.cache_creation_1h_input_tokens, 750);
});

test('OpenAI Responses API body: input/output tokens and input_tokens_details', () => {
  const body = Buffer.from(JSON.stringify({ id: 'resp_67ccd2bed1ec8190b14f964abc054267', object: 'response', created_at: 1741476542, status: 'completed', model: 'gpt-4.1-2025-04-14', output: [{ type: 'message', id: 'msg_1', role: 'assistant', content: [{ type: 'output_text', text: 'Hi', annotations: [] }] }], usage: { input_tokens: 328, input_tokens_details: { cached_tokens: 256 }, output_tokens: 52, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 380 } }));
  assert.deepEqual(usageFromOpenAIBody(body).usage, { promptIncludesCache: true, prompt_tokens: 328, completion_tokens: 52, cache_read_input_tokens: 256, cache_creation_input_tokens: 0 });
});

test('no usage, usage null, error bodies, not JSON: undefined, never a throw', () => {
  assert.deepEqual(usageFromOpenAIBody(Buffer.from('{"id":"x","model":"m","choices":[]}')), { id: 'x', usage: undefined });
  assert.deepEqual(usageFromOpenAIBody(Buffer.from('{"id":"x","usage":null}')), { id: 'x', usage: undefined });
  assert.deepEqual(usageFromOpenAIBody(Buffer.from('{"error":{"message":"Rate limit","type":"rate_limit_error","code":"429"}}')), { id: undefined, usage: undefined });
  assert.deepEqual(usageFromAnthropicBody(Buffer.from('{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}')), { id: undefined, usage: undefined });
  for (const junk of ['', 'null', '[]', '<html>502 Bad Gateway</html>', '{"usage":{"prompt_tokens":1', '{"id":"a","usage":{"prompt_tokens":1}', '"usage"', '{"usage":{"prompt_tokens":"ten"}}']) {
    const r = usageFromOpenAIBody(Buffer.from(junk));
    assert.equal(r.usage?.prompt_tokens ?? 0, 0, junk);
  }
});

test('usage first, in the middle, or with escaped key names: found (fast path or fallback)', () => {
  const u = { prompt_tokens: 11, completion_tokens: 22, prompt_tokens_details: { cached_tokens: 5 } };
  const bodies = [
    { usage: u, id: 'a', model: 'gpt-4o', choices: [{ message: { content: 'x' } }] },
    { id: 'a', usage: u, choices: [{ message: { content: '"usage": {"prompt_tokens": 999}' } }], model: 'gpt-4o' },
    { id: 'a', model: 'gpt-4o', choices: [{ usage: { prompt_tokens: 999 } }], usage: u, x: { usage: { prompt_tokens: 1 } } },
  ];
  for (const b of bodies) {
    const r = usageFromOpenAIBody(Buffer.from(JSON.stringify(b, null, 2)));
    assert.equal(r.usage?.prompt_tokens, 11, JSON.stringify(b));
    assert.equal(r.usage?.cache_read_input_tokens, 5);
    assert.equal(r.id, 'a');
  }
  const escaped = Buffer.from('{"\\u0069d":"esc","\\u0075sage":{"prompt_tokens":7,"completion_tokens":1},"model":"gpt-4o"}');
  assert.deepEqual(usageFromOpenAIBody(escaped), { id: 'esc', usage: { promptIncludesCache: true, prompt_tokens: 7, completion_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 } });
  const spaced = Buffer.from('\r\n {\n\t"id" : "sp" ,\n "usage"\t:\n {"input_tokens" : 4 , "output_tokens":2}\n ,"model":"claude-haiku-4-5"\n}\n\n');
  assert.deepEqual(usageFromAnthropicBody(spaced), { id: 'sp', usage: { promptIncludesCache: false, prompt_tokens: 4, completion_tokens: 2, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 } });
});

/** mulberry32 */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('agrees with JSON.parse on 2000 random bodies (key order, decoys, whitespace)', () => {
  const r = rng(42);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const decoys = [
    'usage',
    '"usage": {"input_tokens": 5}',
    '\\"usage\\":{',
    'say \\"usage',
    '{"usage":{"output_tokens":1}}',
  ];
  for (let n = 0; n < 2000; n++) {
    const members: Array<[string, unknown]> = [];
    members.push(['id', `msg_${n}`]);
    members.push(['model', pick(['claude-sonnet-4-5', 'gpt-4o', 'gpt-4o-mini'])]);
    members.push(['content', [{ type: 'text', text: pick(decoys) }, { type: 'tool_use', input: { usage: { input_tokens: 999 }, note: pick(decoys) } }]]);
    if (r() < 0.3) members.push(['metadata', { usage: { input_tokens: 123 } }]);
    const hasUsage = r() < 0.9;
    const usage = { input_tokens: Math.floor(r() * 1e6), output_tokens: Math.floor(r() * 1e4), cache_read_input_tokens: Math.floor(r() * 1e5), cache_creation_input_tokens: Math.floor(r() * 1e4) };
    if (hasUsage) members.splice(Math.floor(r() * (members.length + 1)), 0, ['usage', usage]);
    if (r() < 0.1) members.push(['usage', null]); // a later duplicate wins, as in JSON.parse
    const obj = Object.fromEntries(members);
    const text = r() < 0.5 ? JSON.stringify(obj) : JSON.stringify(obj, null, pick([1, 2, '\t']));
    const got = usageFromAnthropicBody(Buffer.from(text));
    const oracle = JSON.parse(text) as { id: string; usage: unknown };
    assert.deepEqual(got.usage, anthropicUsageFromObject(oracle.usage), text);
    assert.equal(got.id, oracle.id);
  }
});

test('openaiUsageFromObject / anthropicUsageFromObject: bad numbers become 0', () => {
  assert.deepEqual(openaiUsageFromObject({ prompt_tokens: -5, completion_tokens: 1.7, prompt_tokens_details: { cached_tokens: 'x' } }), { promptIncludesCache: true, prompt_tokens: 0, completion_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
  assert.equal(anthropicUsageFromObject({ foo: 1 }), undefined);
  assert.equal(openaiUsageFromObject([1, 2]), undefined);
});

test('a 1 MB body is read without parsing it: only its two ends are looked at', () => {
  const big = { id: 'chatcmpl-big', object: 'chat.completion', model: 'gpt-4.1', choices: [{ index: 0, message: { role: 'assistant', content: 'x{"a":[1,2]} '.repeat(80_000) } }], usage: { prompt_tokens: 1, completion_tokens: 2 }, system_fingerprint: 'fp' };
  const buf = Buffer.from(JSON.stringify(big));
  const before = scanSteps.n;
  const r = usageFromOpenAIBody(buf);
  const steps = scanSteps.n - before; // bytes looked at (src/scan-steps.ts); JSON.parse would take them all
  assert.equal(r.usage?.completion_tokens, 2);
  assert.equal(r.id, 'chatcmpl-big');
  assert.ok(steps < 1000, `${steps} steps for ${buf.length} bytes`);
});

test('only the id is read from the front: the members after it are not walked', () => {
  // What a call records is the id and the usage; a long member between them is never looked at.
  const body = Buffer.from(JSON.stringify({ id: 'chatcmpl-front', object: 'x'.repeat(50_000), created: 1, model: 'gpt-4o', choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } }));
  const before = scanSteps.n;
  const r = usageFromOpenAIBody(body);
  const steps = scanSteps.n - before;
  assert.equal(r.id, 'chatcmpl-front');
  assert.equal(r.usage?.prompt_tokens, 3);
  assert.ok(steps < 1000, `${steps} steps for ${body.length} bytes`);
});
