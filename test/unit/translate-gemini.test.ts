// The Gemini dialect: chat (and Anthropic, through chat) → generateContent requests, answers and
// SSE streams back in every chunking, thought signatures round-tripping through tool call ids,
// schema cleaning as LiteLLM does it, usage with cached and thought tokens.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { anthropicToOpenAIChat } from '../../src/translate';
import { chatToGemini, THOUGHT_MARK } from '../../src/translate/gemini-request';
import { geminiResponseToChat } from '../../src/translate/gemini-response';
import { geminiSchema } from '../../src/translate/gemini-schema';
import { GeminiToAnthropicStream, GeminiToChatStream } from '../../src/translate/gemini-stream';
import { accumulateAnthropic, accumulateOpenAI, chunkings, runStream } from './translate-helpers';

const SIG = 'CiQB0e2Kb+/sig=='; // standard base64 with + / and padding: must survive the id round trip

function geminiSse(events: unknown[], crlf = true): Buffer {
  const nl = crlf ? '\r\n\r\n' : '\n\n';
  return Buffer.from(events.map((e) => `data: ${JSON.stringify(e)}${nl}`).join(''));
}

const TOOL_STREAM = [
  { candidates: [{ content: { role: 'model', parts: [{ text: 'Let me think', thought: true }] } }], responseId: 'resp1', usageMetadata: { promptTokenCount: 100 } },
  { candidates: [{ content: { role: 'model', parts: [{ text: 'I will run ' }, { text: 'it — ünïcode' }] } }] },
  { candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'Bash', args: { command: 'echo hi' } }, thoughtSignature: SIG }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 20, thoughtsTokenCount: 7, cachedContentTokenCount: 60, totalTokenCount: 127 } },
];

describe('chat → generateContent', () => {
  test('system, roles, merged turns, images, tools, tool results with names and signatures, config', () => {
    const id = `call_1${THOUGHT_MARK}${Buffer.from(SIG, 'base64').toString('base64url')}`;
    const { body, ctx } = chatToGemini(
      {
        model: 'g',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
          { role: 'user', content: 'and run' },
          { role: 'assistant', content: 'ok', tool_calls: [{ id, type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } }] },
          { role: 'tool', tool_call_id: id, content: 'a.txt' },
          { role: 'system', content: 'reminder' },
        ],
        tools: [{ type: 'function', function: { name: 'Bash', description: 'run', parameters: { type: 'object', $schema: 'x', additionalProperties: false, properties: { command: { type: ['string', 'null'], format: 'uri' } }, required: ['command', 'ghost'] } } }, { type: 'web_search' }],
        tool_choice: { type: 'function', function: { name: 'Bash' } },
        temperature: 0.2,
        max_tokens: 99,
        stop: 'END',
        reasoning_effort: 'low',
        stream: true,
        stream_options: { include_usage: true },
      },
      'gemini-2.5-pro',
    );
    assert.deepEqual(body.systemInstruction, { parts: [{ text: 'be brief' }] });
    assert.deepEqual(body.contents, [
      { role: 'user', parts: [{ text: 'look' }, { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }, { text: 'and run' }] },
      { role: 'model', parts: [{ text: 'ok' }, { functionCall: { name: 'Bash', args: { command: 'ls' } }, thoughtSignature: SIG }] },
      { role: 'user', parts: [{ functionResponse: { name: 'Bash', response: { content: 'a.txt' } } }, { text: 'reminder' }] },
    ]);
    assert.deepEqual(body.tools, [{ functionDeclarations: [{ name: 'Bash', description: 'run', parameters: { type: 'object', properties: { command: { type: 'string', nullable: true } }, required: ['command'] } }] }]);
    assert.deepEqual(body.toolConfig, { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['Bash'] } });
    assert.deepEqual(body.generationConfig, { temperature: 0.2, maxOutputTokens: 99, stopSequences: ['END'], thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } });
    assert.equal(body.stream, undefined);
    assert.equal(body.model, undefined);
    assert.equal(ctx.includeUsage, true);
  });

  test('an Anthropic request (Claude Code) reaches Gemini through chat, its thinking budget kept', () => {
    const chat = anthropicToOpenAIChat(
      {
        model: 'claude-x',
        max_tokens: 32000,
        system: [{ type: 'text', text: 'You are Claude Code', cache_control: { type: 'ephemeral' } }],
        thinking: { type: 'enabled', budget_tokens: 3000 },
        tools: [{ name: 'Read', input_schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } }],
        messages: [
          { role: 'user', content: 'read it' },
          { role: 'assistant', content: [{ type: 'thinking', thinking: 'hm', signature: '' }, { type: 'tool_use', id: 'call_9', name: 'Read', input: { path: '/a' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_9', content: [{ type: 'text', text: 'body' }] }] },
        ],
      },
      { model: 'gemini-2.5-flash' },
    );
    const { body } = chatToGemini(chat.body, 'gemini-2.5-flash', { thinkingBudget: 3000 });
    assert.deepEqual(body.systemInstruction, { parts: [{ text: 'You are Claude Code' }] });
    assert.deepEqual((body.contents as any[]).map((c) => c.role), ['user', 'model', 'user']);
    assert.deepEqual((body.contents as any[])[2].parts, [{ functionResponse: { name: 'Read', response: { content: 'body' } } }]);
    assert.deepEqual((body.generationConfig as any).thinkingConfig, { thinkingBudget: 3000, includeThoughts: true });
    assert.equal((body.generationConfig as any).maxOutputTokens, 32000);
  });

  test('invalid input is refused with the param named; unknown parts are dropped and named', () => {
    assert.throws(() => chatToGemini({ messages: [] }, 'g'), /messages/);
    assert.throws(() => chatToGemini({ messages: [{ role: 'wizard', content: 'x' }] }, 'g'), (e: any) => e.param === 'messages[0].role');
    assert.throws(
      () => chatToGemini({ messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{nope' } }] }] }, 'g'),
      (e: any) => e.param === 'messages[0].tool_calls[0].function.arguments',
    );
    assert.throws(() => chatToGemini({ messages: [{ role: 'tool', tool_call_id: 'nobody', content: 'x' }] }, 'g'), (e: any) => e.param === 'messages[0].tool_call_id');
    const r = chatToGemini({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'hologram' }] }] }, 'g');
    assert.match(r.dropped!.items!, /messages\[0\]\.content\[1\] \(type 'hologram'\)/);
  });
});

describe('Gemini schema cleaning (LiteLLM _build_vertex_schema)', () => {
  test('$defs unwound, anyOf null → nullable, empty enum strings out, items {} → object, unknown fields out', () => {
    const s = geminiSchema({
      type: 'object',
      $defs: { P: { type: 'object', properties: { x: { type: 'integer', exclusiveMinimum: 0 } } } },
      properties: {
        p: { $ref: '#/$defs/P', description: 'a p' },
        o: { anyOf: [{ type: 'string' }, { type: 'null' }], default: 'd' },
        e: { type: 'string', enum: ['a', ''] },
        l: { type: 'array', items: {} },
        f: { type: 'string', format: 'date-time' },
      },
    });
    assert.deepEqual(s, {
      type: 'object',
      properties: {
        p: { type: 'object', properties: { x: { type: 'integer' } }, description: 'a p' },
        o: { type: 'string', nullable: true },
        e: { type: 'string', enum: ['a'] },
        l: { type: 'array', items: { type: 'object' } },
        f: { type: 'string', format: 'date-time' },
      },
    });
    assert.equal(geminiSchema({ type: 'object', properties: {} }), undefined, 'no parameters: none declared');
  });

  test('a self-referencing schema and one that doubles at every level stay bounded', () => {
    const self = geminiSchema({ type: 'object', $defs: { N: { type: 'object', properties: { next: { $ref: '#/$defs/N' } } } }, properties: { n: { $ref: '#/$defs/N' } } });
    assert.ok(JSON.stringify(self).length < 10_000);
    const defs: Record<string, unknown> = { D0: { type: 'string' } };
    for (let i = 1; i <= 40; i++) defs[`D${i}`] = { type: 'object', properties: { a: { $ref: `#/$defs/D${i - 1}` }, b: { $ref: `#/$defs/D${i - 1}` } } };
    const big = geminiSchema({ type: 'object', $defs: defs, properties: { root: { $ref: '#/$defs/D40' } } });
    assert.ok(JSON.stringify(big).length < 2_000_000, 'the node budget holds');
  });
});

describe('generateContent answer → chat', () => {
  test('text, thoughts, tool calls with the signature in the id, finish reason, usage with cached tokens', () => {
    const chat = geminiResponseToChat(
      {
        responseId: 'r1',
        candidates: [{ content: { role: 'model', parts: [{ text: 'why', thought: true }, { text: 'Hi' }, { functionCall: { name: 'Bash', args: { command: 'ls' } }, thoughtSignature: SIG }] }, finishReason: 'STOP' }],
        usageMetadata: { promptTokenCount: 50, candidatesTokenCount: 10, thoughtsTokenCount: 5, cachedContentTokenCount: 30 },
      },
      { model: 'my-gemini' },
    ) as any;
    assert.equal(chat.model, 'my-gemini');
    assert.equal(chat.id, 'chatcmpl-r1');
    const m = chat.choices[0].message;
    assert.equal(m.content, 'Hi');
    assert.equal(m.reasoning_content, 'why');
    assert.equal(chat.choices[0].finish_reason, 'tool_calls');
    assert.equal(m.tool_calls[0].function.arguments, '{"command":"ls"}');
    assert.ok(/^[A-Za-z0-9_-]+$/.test(m.tool_calls[0].id), 'a valid Anthropic tool_use id too');
    assert.deepEqual(chat.usage, { prompt_tokens: 50, completion_tokens: 15, total_tokens: 65, prompt_tokens_details: { cached_tokens: 30 }, completion_tokens_details: { reasoning_tokens: 5 } });
    // The id goes back up with the tool result, and the signature with it.
    const back = chatToGemini({ messages: [{ role: 'user', content: 'x' }, m, { role: 'tool', tool_call_id: m.tool_calls[0].id, content: 'ok' }] }, 'g');
    assert.equal((back.body.contents as any[])[1].parts[1].thoughtSignature, SIG);
  });

  test('finish reasons: MAX_TOKENS → length, SAFETY → content_filter, a blocked prompt → content_filter', () => {
    const one = (fr: string) => (geminiResponseToChat({ candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: fr }] }, { model: 'm' }) as any).choices[0].finish_reason;
    assert.equal(one('MAX_TOKENS'), 'length');
    assert.equal(one('SAFETY'), 'content_filter');
    assert.equal(one('STOP'), 'stop');
    assert.equal((geminiResponseToChat({ promptFeedback: { blockReason: 'SAFETY' } }, { model: 'm' }) as any).choices[0].finish_reason, 'content_filter');
  });
});

describe('Gemini SSE → chat and Anthropic streams, every chunking', () => {
  const bytes = geminiSse(TOOL_STREAM);
  for (const c of chunkings(bytes)) {
    test(`chat: ${c.name}`, () => {
      const t = new GeminiToChatStream({ model: 'my-gemini', includeUsage: true });
      const r = accumulateOpenAI(runStream(t, c.chunks));
      assert.equal(r.done, true);
      assert.equal(r.message.content, 'I will run it — ünïcode');
      assert.equal(r.message.reasoning_content, 'Let me think');
      assert.equal(r.message.tool_calls[0].function.name, 'Bash');
      assert.deepEqual(JSON.parse(r.message.tool_calls[0].function.arguments), { command: 'echo hi' });
      assert.ok(r.message.tool_calls[0].id.includes(THOUGHT_MARK));
      assert.equal(r.finish_reason, 'tool_calls');
      assert.equal(r.usage!.prompt_tokens, 100);
      assert.equal(r.usage!.completion_tokens, 27);
      assert.equal(r.usage!.prompt_tokens_details.cached_tokens, 60);
      assert.equal(t.usageMetadata!.cachedContentTokenCount, 60);
    });
    test(`anthropic: ${c.name}`, () => {
      const t = new GeminiToAnthropicStream({ model: 'my-gemini' }, { model: 'claude-alias', estimatedInputTokens: 90 });
      const r = accumulateAnthropic(runStream(t, c.chunks));
      assert.equal(r.error, undefined);
      const types = r.message.content.map((b: any) => b.type);
      assert.deepEqual(types, ['thinking', 'text', 'tool_use']);
      assert.equal(r.message.content[1].text, 'I will run it — ünïcode');
      assert.deepEqual(r.message.content[2].input, { command: 'echo hi' });
      assert.equal(r.message.stop_reason, 'tool_use');
      assert.equal(r.message.usage.output_tokens, 27);
      assert.equal(r.message.usage.cache_read_input_tokens, 60);
      assert.equal(r.message.usage.input_tokens, 40);
    });
  }

  test('a stream cut before its finishReason ends with an error event, in both dialects', () => {
    const cut = geminiSse(TOOL_STREAM.slice(0, 2));
    const chat = accumulateOpenAI(runStream(new GeminiToChatStream({ model: 'm' }), [cut]));
    assert.match(chat.error!.message, /ended before/);
    const anth = accumulateAnthropic(runStream(new GeminiToAnthropicStream({ model: 'm' }, { model: 'm' }), [cut]));
    assert.match(anth.error!.message, /ended before/);
  });

  test('a prompt blocked before any candidate ends both streams filtered, not cut', () => {
    const s = geminiSse([{ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 9 } }]);
    const chat = accumulateOpenAI(runStream(new GeminiToChatStream({ model: 'm', includeUsage: true }), [s]));
    assert.equal(chat.finish_reason, 'content_filter');
    assert.equal(chat.done, true);
    const anth = accumulateAnthropic(runStream(new GeminiToAnthropicStream({ model: 'm' }, { model: 'm' }), [s]));
    assert.equal(anth.error, undefined);
    assert.equal(anth.message.stop_reason, 'refusal');
  });

  test('an error event from Gemini ends the stream with its status and message', () => {
    const s = geminiSse([TOOL_STREAM[0], { error: { code: 429, message: 'Resource exhausted', status: 'RESOURCE_EXHAUSTED' } }]);
    const chat = accumulateOpenAI(runStream(new GeminiToChatStream({ model: 'm' }), [s]));
    assert.equal(chat.error!.code, '429');
    const anth = accumulateAnthropic(runStream(new GeminiToAnthropicStream({ model: 'm' }, { model: 'm' }), [s]));
    assert.equal(anth.error!.type, 'rate_limit_error');
  });
});
