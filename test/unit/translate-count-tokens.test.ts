// estimateTokens: the local count for /v1/messages/count_tokens and for message_start's input_tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateTokens } from '../../src/translate';
import { fixtureJson } from './translate-helpers';

const msg = (content: unknown, role = 'user') => ({ role, content });

test('text: characters / 4 rounded up, plus 3 per message', () => {
  assert.equal(estimateTokens({ messages: [msg('a'.repeat(400))] }), 100 + 3);
  assert.equal(estimateTokens({ messages: [msg('a'.repeat(401))] }), 101 + 3);
  assert.equal(estimateTokens({ messages: [msg('abcd'), msg('efgh', 'assistant')] }), 2 + 6);
});

test('system as a string or text blocks counts like message text', () => {
  const base = estimateTokens({ messages: [msg('hi')] });
  assert.equal(estimateTokens({ system: 'x'.repeat(800), messages: [msg('hi')] }) - base, 200);
  assert.equal(estimateTokens({ system: [{ type: 'text', text: 'x'.repeat(400), cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'y'.repeat(400) }], messages: [msg('hi')] }) - base, 200);
});

test('an image costs 1600 tokens, whatever its encoded size', () => {
  const small = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } };
  const large = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(400000) } };
  const base = estimateTokens({ messages: [msg([{ type: 'text', text: 'see' }])] });
  assert.equal(estimateTokens({ messages: [msg([{ type: 'text', text: 'see' }, small])] }) - base, 1600);
  assert.equal(estimateTokens({ messages: [msg([{ type: 'text', text: 'see' }, large])] }) - base, 1600);
});

test('a base64 PDF counts its decoded size / 8', () => {
  const pdf = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'A'.repeat(8000) } };
  assert.equal(estimateTokens({ messages: [msg([pdf])] }), 3 + 6000 / 8);
});

test('tools count their JSON (name, description, schema) plus 8 each', () => {
  const tool = { name: 'get_weather', description: 'Get the weather for a city.', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
  const base = estimateTokens({ messages: [msg('hi')] });
  const withTool = estimateTokens({ messages: [msg('hi')], tools: [tool] });
  const json = JSON.stringify(tool).length;
  assert.ok(Math.abs(withTool - base - (json / 4 + 8)) <= 2, `tool cost ${withTool - base} vs ${json / 4 + 8}`);
});

test('tool_use inputs, tool_result content and thinking count; redacted thinking does not', () => {
  const base = estimateTokens({ messages: [msg('q'), msg([], 'assistant'), msg([])] });
  const full = estimateTokens({
    messages: [
      msg('q'),
      msg([{ type: 'thinking', thinking: 't'.repeat(400), signature: 'sig' }, { type: 'redacted_thinking', data: 'r'.repeat(4000) }, { type: 'tool_use', id: 'x', name: 'Read', input: { file_path: 'p'.repeat(390) } }], 'assistant'),
      msg([{ type: 'tool_result', tool_use_id: 'x', content: [{ type: 'text', text: 'c'.repeat(800) }] }]),
    ],
  });
  const added = full - base;
  assert.ok(added >= 100 + 100 + 200 && added <= 100 + 110 + 200, `added ${added}`);
});

test('an OpenAI chat body is estimated too (string content, parts, tool_calls)', () => {
  const e = estimateTokens({
    messages: [
      { role: 'system', content: 's'.repeat(400) },
      { role: 'user', content: [{ type: 'text', text: 'u'.repeat(400) }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    ],
  });
  assert.ok(e > 200 + 1600 + 9 && e < 200 + 1600 + 9 + 30, String(e));
});

test('the Claude Code request: a plausible count, and more history means more tokens', () => {
  const body = fixtureJson('claude-code-request.json');
  const e = estimateTokens(body);
  const imageData = body.messages[0].content[2].source.data.length;
  const textChars = JSON.stringify(body).length - imageData;
  assert.ok(e > textChars / 6 + 1600 && e < textChars / 3 + 1600, `estimate ${e} for ${textChars} chars + 1 image`);
  const longer = structuredClone(body);
  longer.messages.push(msg('One more thing.', 'assistant'), msg('And another.'));
  assert.ok(estimateTokens(longer) > e);
});

test('not an object, or no messages: 0 / overheads only, never a throw', () => {
  assert.equal(estimateTokens(null), 0);
  assert.equal(estimateTokens('hi'), 0);
  assert.equal(estimateTokens({}), 0);
  assert.equal(estimateTokens({ messages: 'nope', tools: 'nope' }), 0);
});
