// Non-streaming responses both ways: content blocks, stop reasons, usage, ids, names.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { openAIChatResponseToAnthropic, anthropicResponseToOpenAIChat, anthropicToOpenAIChat } from '../../src/translate';
import { fixtureJson } from './translate-helpers';

function chatResponse(message: Record<string, unknown>, finish_reason: string | null = 'stop', extra: Record<string, unknown> = {}) {
  return {
    id: 'chatcmpl-AbC123',
    object: 'chat.completion',
    created: 1741570283,
    model: 'gpt-4.1-2025-04-14',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, logprobs: null, finish_reason, ...extra }],
    usage: { prompt_tokens: 1200, completion_tokens: 80, total_tokens: 1280, prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 } },
  };
}

const anthropicMessage = {
  id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [
    { type: 'thinking', thinking: 'The file needs a rename.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA' },
    { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
    { type: 'text', text: 'Renaming ' },
    { type: 'text', text: 'now.' },
    { type: 'tool_use', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'shell', input: { command: ['bash', '-lc', 'ls'] } },
    { type: 'tool_use', id: 'toolu_01Vq3bNsyo5Xy6tqY4TLpWx2', name: 'update_plan', input: {} },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 472, cache_creation_input_tokens: 1024, cache_read_input_tokens: 20480, output_tokens: 89 },
};

describe('OpenAI response → Anthropic message', () => {
  test('reasoning, text and tool calls become thinking, text and tool_use blocks in that order', () => {
    const m = openAIChatResponseToAnthropic(
      chatResponse(
        {
          content: 'Let me look.',
          reasoning_content: 'Need the file first.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'Read', arguments: '{"file_path":"/a.ts"}' } },
            { id: 'call_2', type: 'function', function: { name: 'Glob', arguments: '' } },
          ],
        },
        'tool_calls',
      ),
      { model: 'claude-sonnet-4-5' },
    );
    assert.deepEqual(m, {
      id: 'msg_AbC123',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [
        { type: 'thinking', thinking: 'Need the file first.', signature: '' },
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_use', id: 'call_1', name: 'Read', input: { file_path: '/a.ts' } },
        { type: 'tool_use', id: 'call_2', name: 'Glob', input: {} },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 176, cache_creation_input_tokens: 0, cache_read_input_tokens: 1024, output_tokens: 80 },
    });
  });

  test('finish_reason → stop_reason', () => {
    const cases: [string | null, string][] = [
      ['stop', 'end_turn'],
      ['length', 'max_tokens'],
      ['tool_calls', 'tool_use'],
      ['function_call', 'tool_use'],
      ['content_filter', 'refusal'],
      [null, 'end_turn'],
      ['eos', 'end_turn'],
    ];
    for (const [fr, want] of cases) assert.equal(openAIChatResponseToAnthropic(chatResponse({ content: 'x' }, fr), { model: 'm' }).stop_reason, want, String(fr));
  });

  test('stop_reason is tool_use when tools were called, even if the upstream said stop (LiteLLM #34692)', () => {
    const m = openAIChatResponseToAnthropic(chatResponse({ content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } }] }, 'stop'), { model: 'm' });
    assert.equal(m.stop_reason, 'tool_use');
  });

  test('stop_sequence when the upstream says which sequence matched (vLLM stop_reason)', () => {
    const m = openAIChatResponseToAnthropic(chatResponse({ content: 'x' }, 'stop', { stop_reason: '###' }), { model: 'm', stopSequences: ['###'] });
    assert.equal(m.stop_reason, 'stop_sequence');
    assert.equal(m.stop_sequence, '###');
    const notOurs = openAIChatResponseToAnthropic(chatResponse({ content: 'x' }, 'stop', { stop_reason: 151643 }), { model: 'm', stopSequences: ['###'] });
    assert.equal(notOurs.stop_reason, 'end_turn');
  });

  test('a refusal is text with stop_reason refusal', () => {
    const m = openAIChatResponseToAnthropic(chatResponse({ content: null, refusal: "I can't help with that." }), { model: 'm' });
    assert.deepEqual(m.content, [{ type: 'text', text: "I can't help with that." }]);
    assert.equal(m.stop_reason, 'refusal');
  });

  test('truncated tool names are restored; invalid ids made valid; invalid argument JSON → {}', () => {
    const long = 'mcp__github-enterprise-server__create_or_update_repository_file_contents_with_branch';
    const { ctx } = anthropicToOpenAIChat({ messages: [{ role: 'user', content: 'x' }], tools: [{ name: long, input_schema: { type: 'object' } }] }, { model: 'g' });
    const short = [...ctx.toolNames!.keys()][0]!;
    const m = openAIChatResponseToAnthropic(
      chatResponse({ content: null, tool_calls: [{ id: 'functions.x:0', type: 'function', function: { name: short, arguments: '{"owner": ' } }] }, 'tool_calls'),
      ctx,
    );
    assert.deepEqual(m.content, [{ type: 'tool_use', id: 'functions_x_0', name: long, input: {} }]);
  });

  test('LiteLLM-style thinking_blocks keep their signatures; a signature-only block survives (LiteLLM PR #38809)', () => {
    const m = openAIChatResponseToAnthropic(
      chatResponse({ content: 'ok', reasoning_content: 'ignored when thinking_blocks exist', thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'sig-only' }, { type: 'redacted_thinking', data: 'r' }] }),
      { model: 'm' },
    );
    assert.deepEqual(m.content, [
      { type: 'thinking', thinking: '', signature: 'sig-only' },
      { type: 'redacted_thinking', data: 'r' },
      { type: 'text', text: 'ok' },
    ]);
  });

  test('usage: cache reads and writes split out of prompt_tokens, never negative', () => {
    const r = chatResponse({ content: 'x' });
    r.usage = { prompt_tokens: 100, completion_tokens: 5, total_tokens: 105, cache_creation_input_tokens: 30, prompt_tokens_details: { cached_tokens: 50 } } as any;
    assert.deepEqual(openAIChatResponseToAnthropic(r, { model: 'm' }).usage, { input_tokens: 20, cache_creation_input_tokens: 30, cache_read_input_tokens: 50, output_tokens: 5 });
    r.usage = { prompt_tokens: 10, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 50 } } as any;
    assert.equal(openAIChatResponseToAnthropic(r, { model: 'm' }).usage.input_tokens, 0);
    delete (r as any).usage;
    assert.deepEqual(openAIChatResponseToAnthropic(r, { model: 'm' }).usage, { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 });
  });

  test('reasoning from an upstream that calls it `reasoning`; content given as parts; messageId override', () => {
    const m = openAIChatResponseToAnthropic(chatResponse({ content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }], reasoning: 'r' }), { model: 'm', messageId: 'msg_fixed' });
    assert.deepEqual(m.content, [{ type: 'thinking', thinking: 'r', signature: '' }, { type: 'text', text: 'ab' }]);
    assert.equal(m.id, 'msg_fixed');
  });
});

describe('Anthropic message → OpenAI response', () => {
  test('text joined, thinking → reasoning_content + thinking_blocks, tool_use → tool_calls, usage with cache', () => {
    const r = anthropicResponseToOpenAIChat(anthropicMessage, { model: 'gpt-5-codex', created: 1700000000 });
    assert.deepEqual(r, {
      id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
      object: 'chat.completion',
      created: 1700000000,
      model: 'gpt-5-codex',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Renaming now.',
            tool_calls: [
              { id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'shell', arguments: '{"command":["bash","-lc","ls"]}' } },
              { id: 'toolu_01Vq3bNsyo5Xy6tqY4TLpWx2', type: 'function', function: { name: 'update_plan', arguments: '{}' } },
            ],
            reasoning_content: 'The file needs a rename.',
            thinking_blocks: [
              { type: 'thinking', thinking: 'The file needs a rename.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA' },
              { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: {
        prompt_tokens: 472 + 1024 + 20480,
        completion_tokens: 89,
        total_tokens: 472 + 1024 + 20480 + 89,
        prompt_tokens_details: { cached_tokens: 20480, cache_creation_tokens: 1024 },
        cache_read_input_tokens: 20480,
        cache_creation_input_tokens: 1024,
      },
    });
  });

  test('stop_reason → finish_reason', () => {
    const cases: [string, string][] = [
      ['end_turn', 'stop'],
      ['stop_sequence', 'stop'],
      ['pause_turn', 'stop'],
      ['max_tokens', 'length'],
      ['model_context_window_exceeded', 'length'],
      ['tool_use', 'tool_calls'],
      ['refusal', 'content_filter'],
    ];
    for (const [sr, want] of cases) {
      const r = anthropicResponseToOpenAIChat({ ...anthropicMessage, content: [{ type: 'text', text: 'x' }], stop_reason: sr }, { model: 'm' });
      assert.equal((r.choices as any)[0].finish_reason, want, sr);
    }
  });

  test('tool calls only: content is null; server tool blocks are left out', () => {
    const r = anthropicResponseToOpenAIChat(
      {
        ...anthropicMessage,
        content: [
          { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'x' } },
          { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] },
          { type: 'tool_use', id: 'toolu_1', name: 'Read', input: { file_path: '/x' } },
        ],
      },
      { model: 'm' },
    );
    const msg = (r.choices as any)[0].message;
    assert.equal(msg.content, null);
    assert.deepEqual(msg.tool_calls.map((t: any) => t.function.name), ['Read']);
  });

  test('no content at all: empty string content, stop', () => {
    const r = anthropicResponseToOpenAIChat({ ...anthropicMessage, content: [], stop_reason: 'end_turn' }, { model: 'm' });
    assert.deepEqual((r.choices as any)[0].message, { role: 'assistant', content: '' });
  });
});

describe('response round trips', () => {
  test('Anthropic → OpenAI → Anthropic keeps thinking signatures, redacted thinking, text, tool_use and usage', () => {
    const o = anthropicResponseToOpenAIChat(anthropicMessage, { model: 'gpt' });
    const back = openAIChatResponseToAnthropic(o, { model: anthropicMessage.model });
    assert.deepEqual(back.content, [
      anthropicMessage.content[0],
      anthropicMessage.content[1],
      { type: 'text', text: 'Renaming now.' },
      anthropicMessage.content[4],
      anthropicMessage.content[5],
    ]);
    assert.deepEqual(back.usage, anthropicMessage.usage);
    assert.equal(back.stop_reason, 'tool_use');
    assert.equal(back.id, anthropicMessage.id);
  });

  test('the Claude Code request and its answer: the tool call Claude Code receives names its own tool', () => {
    const { ctx } = anthropicToOpenAIChat(fixtureJson('claude-code-request.json'), { model: 'gpt-4.1' });
    const m = openAIChatResponseToAnthropic(
      chatResponse({ content: null, tool_calls: [{ id: 'call_z', type: 'function', function: { name: 'Edit', arguments: '{"file_path":"/work/app/src/index.ts","old_string":"sum","new_string":"add"}' } }] }, 'tool_calls'),
      ctx,
    );
    assert.equal(m.model, 'claude-sonnet-4-5-20250929');
    assert.deepEqual(m.content, [{ type: 'tool_use', id: 'call_z', name: 'Edit', input: { file_path: '/work/app/src/index.ts', old_string: 'sum', new_string: 'add' } }]);
  });
});
