// Request translation both ways, field by field, on recorded-style Claude Code and Codex requests.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { anthropicToOpenAIChat, openAIChatToAnthropic, estimateTokens, TranslationError } from '../../src/translate';
import { fixtureJson, keysDeep } from './translate-helpers';

const cc = () => fixtureJson('claude-code-request.json');
const codex = () => fixtureJson('codex-chat-request.json');
const LONG_MCP = 'mcp__github-enterprise-server__create_or_update_repository_file_contents_with_branch';

function a2o(body: unknown, opts: Partial<Parameters<typeof anthropicToOpenAIChat>[1]> = {}) {
  return anthropicToOpenAIChat(body, { model: 'gpt-4.1', ...opts });
}
function o2a(body: unknown, opts: Partial<Parameters<typeof openAIChatToAnthropic>[1]> = {}) {
  return openAIChatToAnthropic(body, { model: 'claude-sonnet-4-5', ...opts });
}
const user = (content: unknown) => ({ role: 'user', content });
const asst = (content: unknown) => ({ role: 'assistant', content });

describe('Anthropic → OpenAI: the Claude Code request', () => {
  test('top-level fields: exactly the OpenAI ones, nothing Anthropic-only leaks', () => {
    const { body, ctx } = a2o(cc());
    assert.deepEqual(Object.keys(body).sort(), ['max_tokens', 'messages', 'model', 'reasoning_effort', 'stream', 'stream_options', 'tools', 'user'].sort());
    assert.equal(body.model, 'gpt-4.1');
    assert.equal(body.max_tokens, 32000);
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
    // Claude Code's user_id (a JSON string, > 64 characters) goes as its SHA-256 (see the user_id test below).
    assert.equal(body.user, createHash('sha256').update(cc().metadata.user_id).digest('hex'));
    assert.equal(body.reasoning_effort, 'high', 'budget 31999 → high');
    assert.equal(ctx.model, 'claude-sonnet-4-5-20250929', 'responses echo the name the client asked for');
    assert.equal(ctx.stopSequences, undefined);
  });

  test('cache_control is dropped everywhere, system blocks become one system message', () => {
    const { body } = a2o(cc());
    assert.ok(!keysDeep(body).has('cache_control'));
    const sys = cc().system.map((b: any) => b.text).join('\n\n');
    assert.deepEqual((body.messages as any[])[0], { role: 'system', content: sys });
    assert.equal((body.messages as any[]).filter((m) => m.role === 'system').length, 1);
  });

  test('tools: input_schema → parameters unchanged, the long MCP name truncated LiteLLM-style and mapped back', () => {
    const src = cc();
    const { body, ctx } = a2o(src);
    const tools = body.tools as any[];
    assert.equal(tools.length, src.tools.length);
    for (let i = 0; i < tools.length; i++) {
      assert.equal(tools[i].type, 'function');
      assert.deepEqual(tools[i].function.parameters, src.tools[i].input_schema);
      assert.equal(tools[i].function.description, src.tools[i].description);
      assert.deepEqual(Object.keys(tools[i].function).sort(), ['description', 'name', 'parameters']);
    }
    assert.deepEqual(tools.slice(0, 11).map((t) => t.function.name), [
      'Task', 'Bash', 'Glob', 'Grep', 'Read', 'Edit', 'MultiEdit', 'Write', 'WebFetch', 'TodoWrite', 'WebSearch',
    ]);
    const expected = `${LONG_MCP.slice(0, 55)}_${createHash('sha256').update(LONG_MCP).digest('hex').slice(0, 8)}`;
    assert.equal(tools[11].function.name, expected);
    assert.equal(expected.length, 64);
    assert.equal(ctx.toolNames?.get(expected), LONG_MCP);
    assert.equal(ctx.toolNames?.size, 1, 'only truncated names are mapped');
  });

  test('messages: tool_use → tool_calls, tool_result → tool messages right after, in order', () => {
    const src = cc();
    const m = a2o(src).body.messages as any[];
    assert.deepEqual(m.map((x) => x.role), ['system', 'user', 'assistant', 'tool', 'assistant', 'tool', 'tool', 'assistant', 'tool', 'user']);
    const img = src.messages[0].content[2].source;
    assert.deepEqual(m[1].content, [
      { type: 'text', text: src.messages[0].content[0].text },
      { type: 'text', text: 'The build fails, see the screenshot. Fix it and update the todo list.' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${img.data}` } },
    ]);
    assert.deepEqual(m[2], {
      role: 'assistant',
      content: "I'll run the build to see the error.",
      tool_calls: [{ id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'Bash', arguments: JSON.stringify({ command: 'npm run build', description: 'Run the build' }) } }],
    });
    assert.deepEqual(m[3], { role: 'tool', tool_call_id: 'toolu_01A09q90qw90lq917835lq9', content: "Error: src/index.ts(3,10): error TS2305: Module './util' has no exported member 'sum'." });
    assert.equal(m[4].content, null, 'no text: content null');
    assert.deepEqual(m[4].tool_calls.map((t: any) => [t.id, t.function.name, JSON.parse(t.function.arguments)]), [
      ['toolu_01B7yjWq3xQqHw2pLz7Gm4Ka', 'Read', { file_path: '/work/app/src/util.ts' }],
      ['toolu_01C5sUmZ1JbQ9t3rTg8aXvNe', 'Grep', { pattern: 'sum\\(', path: '/work/app/src', '-n': true, output_mode: 'content' }],
    ]);
    assert.deepEqual(m[5], { role: 'tool', tool_call_id: 'toolu_01B7yjWq3xQqHw2pLz7Gm4Ka', content: '     1\texport function add(a: number, b: number) {\n     2\t  return a + b;\n     3\t}\n' });
    assert.deepEqual(m[6], { role: 'tool', tool_call_id: 'toolu_01C5sUmZ1JbQ9t3rTg8aXvNe', content: "src/index.ts:3:import { sum } from './util';" });
    assert.equal(m[7].content, "The function is called `add`, not `sum`. I'll rename the import and track the work.");
    assert.deepEqual(JSON.parse(m[7].tool_calls[0].function.arguments), src.messages[5].content[2].input);
    assert.deepEqual(m[8], { role: 'tool', tool_call_id: 'toolu_01D3kPqR8sTuV2wXyZ4aBcDe', content: 'Todos have been modified successfully.' });
    assert.deepEqual(m[9], { role: 'user', content: 'Also make sure the tests still pass.' });
  });

  test('thinking in the history: dropped by default, kept on request (text or LiteLLM thinking_blocks with signatures)', () => {
    const dropped = a2o(cc()).body.messages as any[];
    assert.ok(!keysDeep(dropped).has('reasoning_content') && !keysDeep(dropped).has('thinking_blocks'));
    const rc = a2o(cc(), { thinkingHistory: 'reasoning_content' }).body.messages as any[];
    assert.equal(rc[2].reasoning_content, 'The user wants me to fix the build. Let me run it first.');
    assert.equal(rc[2].thinking_blocks, undefined);
    const tb = a2o(cc(), { thinkingHistory: 'thinking_blocks' }).body.messages as any[];
    assert.deepEqual(tb[4].thinking_blocks, [{ type: 'thinking', thinking: 'I need to look at both files.', signature: 'EqQBCkgIBxABGAIiQK9f2' }]);
    assert.deepEqual(tb[7].thinking_blocks, [{ type: 'redacted_thinking', data: cc().messages[5].content[0].data }]);
  });

  test('the stream context carries the input-token estimate of the request', () => {
    const src = cc();
    const { ctx } = a2o(src);
    assert.equal(ctx.estimatedInputTokens, estimateTokens(src));
    assert.ok(ctx.estimatedInputTokens! > 1000);
    const { ctx: nonStream } = a2o({ ...src, stream: false });
    assert.equal(nonStream.estimatedInputTokens, undefined);
  });

  test('the input body is not modified', () => {
    const src = cc();
    const before = structuredClone(src);
    a2o(src);
    assert.deepEqual(src, before);
  });

  test('max_tokens: field name and cap are options', () => {
    const { body } = a2o(cc(), { maxTokensField: 'max_completion_tokens', maxTokensCap: 16384 });
    assert.equal(body.max_completion_tokens, 16384);
    assert.equal(body.max_tokens, undefined);
  });
});

describe('Anthropic → OpenAI: mid-conversation system messages (Claude Code 2.1.332, beta mid-conversation-system-2026-04-07)', () => {
  const mid = () => fixtureJson('claude-code-mid-conversation-system.json');
  const sys = (content: unknown) => ({ role: 'system', content });
  const use = (id: string) => ({ type: 'tool_use', id, name: 'Bash', input: { command: 'ls' } });
  const result = (id: string, content = 'ok') => ({ type: 'tool_result', tool_use_id: id, content });

  test('the recorded request: each system message becomes a chat system message in its place, cache_control dropped', () => {
    const src = mid();
    const m = a2o(src).body.messages as any[];
    assert.deepEqual(m.map((x) => x.role), ['system', 'user', 'system', 'assistant', 'tool', 'system', 'assistant', 'tool', 'system']);
    assert.equal(m[0].content, src.system.map((b: any) => b.text).join('\n\n'), 'the top-level system stays first');
    assert.deepEqual(m[2], { role: 'system', content: src.messages[1].content }, 'string content');
    assert.deepEqual(m[4], { role: 'tool', tool_call_id: 'toolu_0', content: 'hi0' });
    assert.deepEqual(m[5], { role: 'system', content: src.messages[4].content });
    assert.deepEqual(m[8], { role: 'system', content: src.messages[7].content[0].text }, 'text blocks, their breakpoint dropped');
    assert.ok(!keysDeep(m).has('cache_control'));
  });

  test('with keepCacheControl the breakpoint stays, on a text part as for the top-level system', () => {
    const m = a2o(mid(), { keepCacheControl: true }).body.messages as any[];
    assert.deepEqual(m[8], { role: 'system', content: [{ type: 'text', text: mid().messages[7].content[0].text, cache_control: { type: 'ephemeral' } }] });
  });

  test('between a tool_use and its tool_result: after the tool messages (chat wants them right after the tool calls)', () => {
    const m = a2o({ max_tokens: 9, messages: [user('q'), asst([use('t1')]), sys('S'), user([result('t1'), { type: 'text', text: 'more' }])] }).body.messages as any[];
    assert.deepEqual(m, [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } }] },
      { role: 'tool', tool_call_id: 't1', content: 'ok' },
      { role: 'system', content: 'S' },
      { role: 'user', content: 'more' },
    ]);
  });

  test('inside a turn: the turn is split around it, tool results still first', () => {
    const two = asst([use('t1'), use('t2')]);
    const m = a2o({ max_tokens: 9, messages: [user('q'), two, user([result('t1'), { type: 'text', text: 'a' }]), sys([{ type: 'text', text: 'S' }]), user([result('t2'), { type: 'text', text: 'b' }])] }).body.messages as any[];
    assert.deepEqual(m.map((x) => [x.role, x.content]), [
      ['user', 'q'],
      ['assistant', null],
      ['tool', 'ok'],
      ['tool', 'ok'],
      ['user', 'a'],
      ['system', 'S'],
      ['user', 'b'],
    ]);
    const a = a2o({ max_tokens: 9, messages: [user('q'), asst('first'), sys('S'), asst('second'), user('r')] }).body.messages as any[];
    assert.deepEqual(a.map((x) => [x.role, x.content]), [['user', 'q'], ['assistant', 'first\n\nsecond'], ['system', 'S'], ['user', 'r']], 'an assistant turn stays one message');
  });

  test('first, last, and empty ones', () => {
    const m = a2o({ max_tokens: 9, system: 'top', messages: [sys('lead'), user('q'), sys(''), sys([]), asst('a'), sys('last')] }).body.messages as any[];
    assert.deepEqual(m, [
      { role: 'system', content: 'top' },
      { role: 'system', content: 'lead' },
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a' },
      { role: 'system', content: 'last' },
    ]);
  });

  test('a tool_use still needs its result: a system message in between does not excuse it', () => {
    assert.throws(() => a2o({ max_tokens: 9, messages: [user('q'), asst([use('t1')]), sys('S')] }), (e: unknown) => e instanceof TranslationError && /'t1' has no tool_result/.test(e.message));
    assert.throws(() => a2o({ max_tokens: 9, messages: [user('q'), asst([use('t1')]), sys('S'), user('no result')] }), /'t1' has no tool_result/);
  });

  test('the stream estimate counts their text', () => {
    const body = { max_tokens: 9, stream: true, messages: [user('q'), sys('s'.repeat(4000))] };
    assert.ok(a2o(body).ctx.estimatedInputTokens! >= 1000);
  });
});

// Be liberal in what is accepted: a block, part or tool of a type the chat API cannot carry (a
// server tool, a block type newer than this translator) is left out and named in `dropped`
// (the gateway sends it as x-weir-dropped / x-weir-dropped-tools). Refusing it would refuse a
// request Anthropic itself serves. Only what is certainly invalid stays a 400 (translate-errors).
describe('Anthropic → OpenAI: what chat cannot carry is left out and named', () => {
  const use = { type: 'tool_use', id: 't1', name: 'Bash', input: {} };
  test('unknown and server-tool blocks in user, assistant and tool_result content', () => {
    const r = a2o({
      max_tokens: 9,
      messages: [
        user([{ type: 'text', text: 'q' }, { type: 'hologram', data: 'x' }]),
        asst([{ type: 'server_tool_use', id: 's1', name: 'web_search', input: { query: 'x' } }, { type: 'web_search_tool_result', tool_use_id: 's1', content: [] }, { type: 'text', text: 'found' }, use]),
        user([{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'out' }, { type: 'search_result', source: 'https://x', title: 't', content: [] }] }]),
      ],
    });
    assert.deepEqual(r.body.messages, [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'found', tool_calls: [{ id: 't1', type: 'function', function: { name: 'Bash', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 't1', content: 'out' },
    ]);
    assert.equal(r.dropped?.items, "messages[0].content[1] (type 'hologram'); messages[1].content[0] (type 'server_tool_use'); messages[1].content[1] (type 'web_search_tool_result'); messages[2].content[0].content[1] (type 'search_result')");
    assert.equal(r.dropped?.tools, null);
  });

  test('server tools and newer tool types are not offered; a tool_choice naming one is left out too', () => {
    const r = a2o({
      max_tokens: 9,
      messages: [user('q')],
      tools: [{ name: 'Read', input_schema: { type: 'object' } }, { type: 'web_search_20250305', name: 'web_search', max_uses: 5 }, { type: 'tool_search_tool_regex_20251119', name: 'tool_search' }],
      tool_choice: { type: 'tool', name: 'web_search' },
    });
    assert.deepEqual((r.body.tools as any[]).map((t) => t.function.name), ['Read']);
    assert.equal(r.body.tool_choice, undefined);
    assert.equal(r.dropped?.tools, 'web_search_20250305, tool_search_tool_regex_20251119');
    assert.equal(r.dropped?.items, "tool_choice (type 'tool')");
    const only = a2o({ max_tokens: 9, messages: [user('q')], tools: [{ type: 'web_search_20250305', name: 'web_search' }], tool_choice: { type: 'any' } });
    assert.equal(only.body.tools, undefined);
    assert.equal(only.dropped?.items, "tool_choice (type 'any')", 'nothing left to choose from');
  });

  test('blocks other than text in a mid-conversation system message (mid-conversation tool changes)', () => {
    const r = a2o({
      max_tokens: 9,
      messages: [
        user('q'),
        { role: 'system', content: [{ type: 'tool_addition', tool: { type: 'tool_definition', definition: { name: 'X', input_schema: { type: 'object' } } } }, { type: 'text', text: 'S' }] },
        { role: 'system', content: [{ type: 'tool_removal', tool: { type: 'tool_reference', name: 'Y' } }] },
      ],
    });
    assert.deepEqual(r.body.messages, [{ role: 'user', content: 'q' }, { role: 'system', content: 'S' }]);
    assert.equal(r.dropped?.items, "messages[1].content[0] (type 'tool_addition'); messages[2].content[0] (type 'tool_removal')");
  });

  test('nothing dropped: no `dropped` at all', () => {
    assert.equal(a2o(cc()).dropped, undefined);
  });
});

describe('Anthropic → OpenAI: parameters', () => {
  const base = { model: 'claude', max_tokens: 100, messages: [user('hi')] };
  const tools = [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];

  test('tool_choice auto / any / tool / none, disable_parallel_tool_use → parallel_tool_calls false', () => {
    const cases: [unknown, unknown, boolean][] = [
      [{ type: 'auto' }, 'auto', false],
      [{ type: 'any' }, 'required', false],
      [{ type: 'tool', name: 'get_weather' }, { type: 'function', function: { name: 'get_weather' } }, false],
      [{ type: 'none' }, 'none', false],
      [{ type: 'auto', disable_parallel_tool_use: true }, 'auto', true],
      [{ type: 'any', disable_parallel_tool_use: true }, 'required', true],
    ];
    for (const [tc, want, noParallel] of cases) {
      const { body } = a2o({ ...base, tools, tool_choice: tc });
      assert.deepEqual(body.tool_choice, want);
      assert.equal(body.parallel_tool_calls, noParallel ? false : undefined);
    }
  });

  test('tool_choice without tools is dropped', () => {
    const { body } = a2o({ ...base, tool_choice: { type: 'auto' } });
    assert.equal(body.tool_choice, undefined);
    assert.equal(body.tools, undefined);
  });

  test('thinking budget → reasoning_effort on LiteLLM thresholds; adaptive follows output_config.effort', () => {
    const cases: [unknown, unknown, unknown][] = [
      [{ type: 'enabled', budget_tokens: 1024 }, undefined, 'low'],
      [{ type: 'enabled', budget_tokens: 2047 }, undefined, 'low'],
      [{ type: 'enabled', budget_tokens: 2048 }, undefined, 'medium'],
      [{ type: 'enabled', budget_tokens: 4095 }, undefined, 'medium'],
      [{ type: 'enabled', budget_tokens: 4096 }, undefined, 'high'],
      [{ type: 'adaptive' }, { effort: 'low' }, 'low'],
      [{ type: 'adaptive' }, { effort: 'high' }, 'high'],
      [{ type: 'adaptive' }, { effort: 'max' }, 'high'],
      [{ type: 'adaptive' }, undefined, 'medium'],
      [{ type: 'disabled' }, undefined, undefined],
    ];
    for (const [thinking, output_config, want] of cases) {
      const { body } = a2o({ ...base, thinking, output_config });
      assert.equal(body.reasoning_effort, want, JSON.stringify(thinking));
    }
  });

  test('stop_sequences → stop, temperature and top_p kept, top_k dropped', () => {
    const { body, ctx } = a2o({ ...base, stop_sequences: ['###', 'END'], temperature: 0.3, top_p: 0.9, top_k: 40 });
    assert.deepEqual(body.stop, ['###', 'END']);
    assert.deepEqual(ctx.stopSequences, ['###', 'END']);
    assert.equal(body.temperature, 0.3);
    assert.equal(body.top_p, 0.9);
    assert.equal(body.top_k, undefined);
  });

  test('metadata.user_id → user: as it is up to 64 characters, else its SHA-256 (OpenAI refuses longer ones)', () => {
    assert.equal(a2o({ ...base, metadata: { user_id: 'user_4f2a' } }).body.user, 'user_4f2a');
    const id64 = 'a'.repeat(64);
    assert.equal(a2o({ ...base, metadata: { user_id: id64 } }).body.user, id64);
    const claudeCode = JSON.stringify({ device_id: 'f'.repeat(64), account_uuid: '', session_id: '7d3e9a52-1c4b-4f0e-9a8d-2b6c5e4f3a21' });
    const sent = (a2o({ ...base, metadata: { user_id: claudeCode } }).body.user) as string;
    assert.match(sent, /^[0-9a-f]{64}$/);
    assert.equal(a2o({ ...base, metadata: { user_id: claudeCode } }).body.user, sent, 'stable: the same id gives the same user');
    assert.notEqual(a2o({ ...base, metadata: { user_id: claudeCode + ' ' } }).body.user, sent);
  });

  test('system as a plain string; metadata without user_id adds no user', () => {
    const { body } = a2o({ ...base, system: 'Be brief.', metadata: {} });
    assert.deepEqual(body.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }]);
    assert.equal(body.user, undefined);
  });

  test('image url source → image_url with the URL', () => {
    const { body } = a2o({ ...base, messages: [user([{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }, { type: 'text', text: 'what is it?' }])] });
    assert.deepEqual((body.messages as any[])[0].content, [
      { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
      { type: 'text', text: 'what is it?' },
    ]);
  });

  test('images returned by a tool follow the tool messages in a user message', () => {
    const img = { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQSkZJRg==' } };
    const { body } = a2o({
      ...base,
      messages: [
        user('take a screenshot'),
        asst([{ type: 'tool_use', id: 'toolu_1', name: 'screenshot', input: {} }]),
        user([{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'captured' }, img] }, { type: 'text', text: 'describe it' }]),
      ],
    });
    const m = body.messages as any[];
    assert.deepEqual(m.map((x) => x.role), ['user', 'assistant', 'tool', 'user']);
    assert.match(m[2].content, /^captured\n.*image output.*next user message/);
    assert.deepEqual(m[3].content, [{ type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQSkZJRg==' } }, { type: 'text', text: 'describe it' }]);
  });

  test('a tool_result without content becomes an empty tool message; is_error text that already says Error is not doubled', () => {
    const { body } = a2o({
      ...base,
      messages: [
        user('go'),
        asst([{ type: 'tool_use', id: 'a', name: 't', input: {} }, { type: 'tool_use', id: 'b', name: 't', input: {} }]),
        user([{ type: 'tool_result', tool_use_id: 'a' }, { type: 'tool_result', tool_use_id: 'b', is_error: true, content: 'Error: no such file' }]),
      ],
    });
    const m = body.messages as any[];
    assert.deepEqual(m.slice(2), [
      { role: 'tool', tool_call_id: 'a', content: '' },
      { role: 'tool', tool_call_id: 'b', content: 'Error: no such file' },
    ]);
  });

  test('client-executed Anthropic tools (bash, text_editor) become functions; server tools can be dropped', () => {
    const { body } = a2o({ ...base, tools: [{ type: 'bash_20250124', name: 'bash' }, { type: 'text_editor_20250728', name: 'str_replace_based_edit_tool' }] });
    const t = body.tools as any[];
    assert.equal(t[0].function.name, 'bash');
    assert.deepEqual(t[0].function.parameters.properties.command, { type: 'string', description: 'The bash command to run.' });
    assert.equal(t[1].function.name, 'str_replace_based_edit_tool');
    assert.deepEqual(t[1].function.parameters.required, ['command', 'path']);
    assert.ok(!t[1].function.parameters.properties.command.enum.includes('undo_edit'), 'text_editor_20250728 has no undo_edit');
    const dropped = a2o({ ...base, tools: [...tools, { type: 'web_search_20250305', name: 'web_search', max_uses: 5 }] }, { serverTools: 'drop' });
    assert.deepEqual((dropped.body.tools as any[]).map((x) => x.function.name), ['get_weather']);
  });

  test('output_format / output_config.format json_schema → response_format', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
    for (const extra of [{ output_format: { type: 'json_schema', schema } }, { output_config: { format: { type: 'json_schema', schema } } }]) {
      const { body } = a2o({ ...base, ...extra });
      assert.deepEqual(body.response_format, { type: 'json_schema', json_schema: { name: 'structured_output', schema } });
    }
  });

  test('PDF and text documents → file and text parts', () => {
    const { body } = a2o({
      ...base,
      messages: [user([
        { type: 'document', title: 'spec.pdf', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0xLjQ=' } },
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain notes' } },
      ])],
    });
    assert.deepEqual((body.messages as any[])[0].content, [
      { type: 'file', file: { filename: 'spec.pdf', file_data: 'data:application/pdf;base64,JVBERi0xLjQ=' } },
      { type: 'text', text: 'plain notes' },
    ]);
  });

  test('consecutive same-role messages are one turn: tool calls merge into one assistant message', () => {
    const { body } = a2o({
      ...base,
      messages: [
        user('a'),
        user([{ type: 'text', text: 'b' }]),
        asst([{ type: 'tool_use', id: 't1', name: 'x', input: { n: 1 } }]),
        asst([{ type: 'tool_use', id: 't2', name: 'x', input: { n: 2 } }]),
        user([{ type: 'tool_result', tool_use_id: 't2', content: '2' }]),
        user([{ type: 'tool_result', tool_use_id: 't1', content: '1' }]),
      ],
    });
    const m = body.messages as any[];
    assert.deepEqual(m.map((x) => x.role), ['user', 'assistant', 'tool', 'tool']);
    assert.deepEqual(m[0].content, [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }]);
    assert.deepEqual(m[1].tool_calls.map((t: any) => t.id), ['t1', 't2']);
    assert.deepEqual(m.slice(2).map((x) => x.tool_call_id), ['t2', 't1'], 'results keep their order');
  });

  test('an assistant turn with only thinking is left out', () => {
    const { body } = a2o({ ...base, messages: [user('a'), asst([{ type: 'thinking', thinking: 'hmm', signature: 's' }]), user('b')] });
    assert.deepEqual((body.messages as any[]).map((x) => x.role), ['user', 'user']);
  });
});

describe('OpenAI → Anthropic: the Codex request', () => {
  test('top-level fields', () => {
    const { body, ctx } = o2a(codex());
    assert.deepEqual(Object.keys(body), ['model', 'max_tokens', 'system', 'messages', 'tools', 'tool_choice', 'stream']);
    assert.equal(body.model, 'claude-sonnet-4-5');
    assert.equal(body.max_tokens, 4096, "LiteLLM's default; thinking is off (see below) so nothing is added");
    assert.equal(body.stream, true);
    assert.deepEqual(body.system, [{ type: 'text', text: codex().messages[0].content }]);
    assert.deepEqual(body.tool_choice, { type: 'auto', disable_parallel_tool_use: true });
    assert.deepEqual(ctx, { model: 'gpt-5-codex', includeUsage: true });
  });

  test('thinking is left off while continuing a tool loop the history has no thinking for', () => {
    const { body } = o2a(codex());
    assert.equal(body.thinking, undefined);
    const fresh = codex();
    fresh.messages = fresh.messages.slice(0, 3);
    const { body: b2 } = o2a(fresh);
    assert.deepEqual(b2.thinking, { type: 'enabled', budget_tokens: 4096 });
    assert.equal(b2.max_tokens, 4096 + 4096, 'the default max is room for the answer; the budget comes on top');
  });

  test('messages: merged user turn, tool_calls → tool_use, tool messages → one user turn of tool_results', () => {
    const src = codex();
    const m = o2a(src).body.messages as any[];
    assert.deepEqual(m.map((x) => x.role), ['user', 'assistant', 'user', 'assistant', 'user']);
    assert.deepEqual(m[0].content, [
      { type: 'text', text: src.messages[1].content },
      { type: 'text', text: 'Rename the helper `sum` to `add` everywhere.' },
    ]);
    assert.deepEqual(m[1].content, [
      { type: 'tool_use', id: 'call_Xk2p9QeA7wVb3nRt', name: 'shell', input: { command: ['bash', '-lc', 'rg -n "sum\\(" src'], workdir: '/home/dev/proj', timeout_ms: 120000 } },
    ]);
    assert.deepEqual(m[2].content, [{ type: 'tool_result', tool_use_id: 'call_Xk2p9QeA7wVb3nRt', content: src.messages[4].content }]);
    assert.deepEqual(m[3].content[0], { type: 'text', text: 'Found two uses. Updating the plan and patching both files.' });
    assert.deepEqual(m[3].content.slice(1).map((b: any) => [b.type, b.id, b.name]), [
      ['tool_use', 'call_Pl4n0ZyX', 'update_plan'],
      ['tool_use', 'call_P4tch9Qw', 'apply_patch'],
    ]);
    assert.match(m[3].content[2].input.input, /^\*\*\* Begin Patch\n/);
    assert.deepEqual(m[4].content, [
      { type: 'tool_result', tool_use_id: 'call_Pl4n0ZyX', content: 'Plan updated' },
      { type: 'tool_result', tool_use_id: 'call_P4tch9Qw', content: [{ type: 'text', text: src.messages[7].content[0].text }] },
    ]);
  });

  test('tools: parameters → input_schema, description kept', () => {
    const src = codex();
    const t = o2a(src).body.tools as any[];
    assert.deepEqual(t.map((x) => x.name), ['shell', 'update_plan', 'apply_patch', 'view_image']);
    for (let i = 0; i < t.length; i++) {
      assert.deepEqual(t[i], { name: src.tools[i].function.name, description: src.tools[i].function.description, input_schema: src.tools[i].function.parameters });
    }
  });

  test('the input body is not modified', () => {
    const src = codex();
    const before = structuredClone(src);
    o2a(src);
    assert.deepEqual(src, before);
  });
});

describe('OpenAI → Anthropic: what Anthropic cannot carry is left out and named', () => {
  const fnTool = (name: string) => ({ type: 'function', function: { name, parameters: { type: 'object', properties: {} } } });
  test('unknown part types and audio in user messages; unknown parts in system, assistant and tool messages', () => {
    const r = o2a({ messages: [
      { role: 'system', content: [{ type: 'text', text: 'S' }, { type: 'hologram' }] },
      { role: 'user', content: [{ type: 'text', text: 'q' }, { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }, { type: 'video_url', video_url: { url: 'https://x/v.mp4' } }] },
      { role: 'assistant', content: [{ type: 'text', text: 'a' }, { type: 'annotation_block' }], tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: [{ type: 'text', text: 'out' }, { type: 'new_output_part' }] },
    ] });
    assert.deepEqual(r.body.system, [{ type: 'text', text: 'S' }]);
    assert.deepEqual(r.body.messages, [
      { role: 'user', content: [{ type: 'text', text: 'q' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'a' }, { type: 'tool_use', id: 'c1', name: 'f', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'c1', content: [{ type: 'text', text: 'out' }] }] },
    ]);
    assert.equal(r.dropped?.items, "messages[0].content[1] (type 'hologram'); messages[1].content[1] (type 'input_audio'); messages[1].content[2] (type 'video_url'); messages[2].content[1] (type 'annotation_block'); messages[3].content[1] (type 'new_output_part')");
  });

  test('tools other than functions are not offered; a tool_choice naming one is left out, allowed_tools maps to its mode', () => {
    const r = o2a({
      messages: [{ role: 'user', content: 'q' }],
      tools: [fnTool('f'), { type: 'custom', custom: { name: 'apply_patch' } }, { type: 'code_interpreter' }],
      tool_choice: { type: 'custom', custom: { name: 'apply_patch' } },
    });
    assert.deepEqual((r.body.tools as any[]).map((t) => t.name), ['f']);
    assert.equal(r.body.tool_choice, undefined);
    assert.equal(r.dropped?.tools, 'custom, code_interpreter');
    assert.equal(r.dropped?.items, "tool_choice (type 'custom')");
    const allowed = o2a({ messages: [{ role: 'user', content: 'q' }], tools: [fnTool('f'), fnTool('g')], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'f' } }] } } });
    assert.deepEqual(allowed.body.tool_choice, { type: 'any' });
    assert.equal(allowed.dropped, undefined);
  });

  test('a tool call of another type (custom) in the history is left out with the tool message answering it', () => {
    const r = o2a({ messages: [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'custom', custom: { name: 'apply_patch', input: '*** Begin Patch' } }, { id: 'c2', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'patched' },
      { role: 'tool', tool_call_id: 'c2', content: 'ok' },
    ] });
    assert.deepEqual(r.body.messages, [
      { role: 'user', content: [{ type: 'text', text: 'q' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'c2', name: 'f', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'c2', content: 'ok' }] },
    ]);
    assert.equal(r.dropped?.items, "messages[1].tool_calls[0] (type 'custom'); messages[2] (type 'tool')");
  });
});

describe('OpenAI → Anthropic: parameters', () => {
  const base = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };

  test('max_completion_tokens wins over max_tokens; defaultMaxTokens applies when neither is sent', () => {
    assert.equal(o2a({ ...base, max_tokens: 100, max_completion_tokens: 200 }).body.max_tokens, 200);
    assert.equal(o2a({ ...base, max_tokens: 100 }).body.max_tokens, 100);
    assert.equal(o2a(base, { defaultMaxTokens: 1234 }).body.max_tokens, 1234);
  });

  test('reasoning_effort → thinking budget, clamped under an explicit max_tokens', () => {
    const cases: [Record<string, unknown>, unknown, number][] = [
      [{ reasoning_effort: 'minimal' }, { type: 'enabled', budget_tokens: 1024 }, 4096 + 1024],
      [{ reasoning_effort: 'low' }, { type: 'enabled', budget_tokens: 1024 }, 4096 + 1024],
      [{ reasoning_effort: 'medium' }, { type: 'enabled', budget_tokens: 2048 }, 4096 + 2048],
      [{ reasoning_effort: 'high' }, { type: 'enabled', budget_tokens: 4096 }, 4096 + 4096],
      [{ reasoning_effort: 'xhigh' }, { type: 'enabled', budget_tokens: 8192 }, 4096 + 8192],
      // Codex 0.171 offers GPT-6 models max and ultra; through /v1/responses they reach Claude too.
      [{ reasoning_effort: 'max' }, { type: 'enabled', budget_tokens: 8192 }, 4096 + 8192],
      [{ reasoning_effort: 'ultra' }, { type: 'enabled', budget_tokens: 8192 }, 4096 + 8192],
      [{ reasoning_effort: 'high', max_tokens: 3000 }, { type: 'enabled', budget_tokens: 2999 }, 3000],
      [{ reasoning_effort: 'high', max_completion_tokens: 20000 }, { type: 'enabled', budget_tokens: 4096 }, 20000],
      [{ reasoning_effort: 'low', max_tokens: 1000 }, undefined, 1000],
      [{ reasoning_effort: 'none' }, undefined, 4096],
      [{ thinking: { type: 'enabled', budget_tokens: 5000 } }, { type: 'enabled', budget_tokens: 5000 }, 4096 + 5000],
    ];
    for (const [extra, thinking, max] of cases) {
      const { body } = o2a({ ...base, ...extra });
      assert.deepEqual(body.thinking, thinking, JSON.stringify(extra));
      assert.equal(body.max_tokens, max, JSON.stringify(extra));
    }
  });

  test('temperature clamped to 0–1; with thinking only temperature 1 and top_p ≥ 0.95 pass', () => {
    assert.equal(o2a({ ...base, temperature: 1.6 }).body.temperature, 1);
    assert.equal(o2a({ ...base, temperature: 0.2, top_p: 0.5 }).body.temperature, 0.2);
    const t = o2a({ ...base, reasoning_effort: 'low', temperature: 0.2, top_p: 0.5 }).body;
    assert.equal(t.temperature, undefined);
    assert.equal(t.top_p, undefined);
    const t1 = o2a({ ...base, reasoning_effort: 'low', temperature: 1, top_p: 0.97 }).body;
    assert.equal(t1.temperature, 1);
    assert.equal(t1.top_p, 0.97);
  });

  test('stop (string or list) → stop_sequences without whitespace-only entries; user → metadata.user_id', () => {
    assert.deepEqual(o2a({ ...base, stop: 'END' }).body.stop_sequences, ['END']);
    assert.deepEqual(o2a({ ...base, stop: ['\n', 'END', ' '] }).body.stop_sequences, ['END']);
    assert.equal(o2a({ ...base, stop: ['\n'] }).body.stop_sequences, undefined);
    assert.deepEqual(o2a({ ...base, user: 'u-42' }).body.metadata, { user_id: 'u-42' });
  });

  test('tool_choice and parallel_tool_calls', () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }];
    const cases: [Record<string, unknown>, unknown][] = [
      [{ tool_choice: 'auto' }, { type: 'auto' }],
      [{ tool_choice: 'required' }, { type: 'any' }],
      [{ tool_choice: 'none' }, { type: 'none' }],
      [{ tool_choice: { type: 'function', function: { name: 'f' } } }, { type: 'tool', name: 'f' }],
      [{ parallel_tool_calls: false }, { type: 'auto', disable_parallel_tool_use: true }],
      [{ tool_choice: 'required', parallel_tool_calls: false }, { type: 'any', disable_parallel_tool_use: true }],
      [{ parallel_tool_calls: true }, undefined],
    ];
    for (const [extra, want] of cases) assert.deepEqual(o2a({ ...base, tools, ...extra }).body.tool_choice, want, JSON.stringify(extra));
    assert.equal(o2a({ ...base, tool_choice: 'auto' }).body.tool_choice, undefined, 'no tools: no tool_choice');
  });

  test('parameters without a type get type object; missing parameters get an empty object schema', () => {
    const { body } = o2a({ ...base, tools: [
      { type: 'function', function: { name: 'a', parameters: { properties: { x: { type: 'string' } } } } },
      { type: 'function', function: { name: 'b' } },
    ] });
    assert.deepEqual((body.tools as any[])[0].input_schema, { type: 'object', properties: { x: { type: 'string' } } });
    assert.deepEqual((body.tools as any[])[1].input_schema, { type: 'object', properties: {} });
  });

  test('images: data URL → base64 block (image/jpg normalised), http URL → url source', () => {
    const { body } = o2a({ ...base, messages: [{ role: 'user', content: [
      { type: 'image_url', image_url: { url: 'data:image/jpg;base64,/9j/4AAQ', detail: 'high' } },
      { type: 'image_url', image_url: { url: 'https://example.com/x.webp' } },
      { type: 'text', text: 'compare' },
    ] }] });
    assert.deepEqual((body.messages as any[])[0].content, [
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/x.webp' } },
      { type: 'text', text: 'compare' },
    ]);
  });

  test('leading system and developer messages go to system, in order', () => {
    const { body } = o2a({ ...base, messages: [
      { role: 'developer', content: [{ type: 'text', text: 'A' }] },
      { role: 'system', content: 'B' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
    ] });
    assert.deepEqual(body.system, [{ type: 'text', text: 'A' }, { type: 'text', text: 'B' }]);
    assert.deepEqual((body.messages as any[]).map((m) => m.role), ['user', 'assistant']);
  });

  // Anthropic takes a system message inside `messages` only with a beta no OpenAI-format client
  // sends; hoisting it into `system` would move it to the start (a reminder meant "from here on"
  // would read as given from the first turn) and change the prompt's prefix, so every prompt-cache
  // read after it turns into a full-price write. It stays in its place as a user-turn text block,
  // tagged the way Claude Code tags its own reminders when system turns are not available.
  test('a later one stays in its place: a <system-reminder> text block in the user turn there', () => {
    const { body } = o2a({ ...base, messages: [
      { role: 'system', content: 'S' },
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a' },
      { role: 'developer', content: 'Use tabs from here on.' },
      { role: 'user', content: 'r' },
      { role: 'assistant', content: 'b' },
      { role: 'system', content: [{ type: 'text', text: 'last' }], cache_control: { type: 'ephemeral' } },
    ] });
    assert.deepEqual(body.system, [{ type: 'text', text: 'S' }]);
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ type: 'text', text: 'q' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'a' }] },
      { role: 'user', content: [{ type: 'text', text: '<system-reminder>\nUse tabs from here on.\n</system-reminder>' }, { type: 'text', text: 'r' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'b' }] },
      { role: 'user', content: [{ type: 'text', text: '<system-reminder>\nlast\n</system-reminder>', cache_control: { type: 'ephemeral' } }] },
    ]);
  });

  test('between tool calls and their tool messages: after the tool_result blocks; thinking still left off for that tool loop', () => {
    const { body } = o2a({ ...base, reasoning_effort: 'high', messages: [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'ls', arguments: '{}' } }] },
      { role: 'system', content: 'S' },
      { role: 'tool', tool_call_id: 'c1', content: 'out' },
    ] });
    assert.equal(body.system, undefined);
    assert.deepEqual((body.messages as any[])[2].content, [
      { type: 'tool_result', tool_use_id: 'c1', content: 'out' },
      { type: 'text', text: '<system-reminder>\nS\n</system-reminder>' },
    ]);
    assert.equal(body.thinking, undefined, 'the assistant turn being continued called tools without thinking');
  });

  test('response_format: json_schema → output_config.format, json_object → a system instruction', () => {
    const schema = { type: 'object', properties: { a: { type: 'number' } } };
    assert.deepEqual(o2a({ ...base, response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } }).body.output_config, { format: { type: 'json_schema', schema } });
    const jo = o2a({ ...base, response_format: { type: 'json_object' } }).body;
    assert.match((jo.system as any[])[0].text, /JSON object/);
  });

  test('tool call ids Anthropic would refuse are made valid the same way in calls and results', () => {
    const { body } = o2a({ ...base, messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: '', tool_calls: [{ id: 'functions.Bash:0', type: 'function', function: { name: 'Bash', arguments: '' } }] },
      { role: 'tool', tool_call_id: 'functions.Bash:0', content: 'ok' },
    ] });
    const m = body.messages as any[];
    assert.deepEqual(m[1].content, [{ type: 'tool_use', id: 'functions_Bash_0', name: 'Bash', input: {} }]);
    assert.deepEqual(m[2].content, [{ type: 'tool_result', tool_use_id: 'functions_Bash_0', content: 'ok' }]);
  });

  test('legacy functions / function_call / function messages', () => {
    const { body } = o2a({
      model: 'gpt-4o',
      functions: [{ name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } }],
      function_call: { name: 'lookup' },
      messages: [
        { role: 'user', content: 'find x' },
        { role: 'assistant', content: null, function_call: { name: 'lookup', arguments: '{"q":"x"}' } },
        { role: 'function', name: 'lookup', content: 'x is 1' },
      ],
    });
    assert.deepEqual(body.tools, [{ name: 'lookup', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }]);
    assert.deepEqual(body.tool_choice, { type: 'tool', name: 'lookup' });
    const m = body.messages as any[];
    assert.deepEqual(m[1].content, [{ type: 'tool_use', id: 'call_fn_1', name: 'lookup', input: { q: 'x' } }]);
    assert.deepEqual(m[2].content, [{ type: 'tool_result', tool_use_id: 'call_fn_1', content: 'x is 1' }]);
  });

  test('signed LiteLLM thinking_blocks are replayed first; unsigned reasoning_content is dropped', () => {
    const { body } = o2a({ ...base, messages: [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a', reasoning_content: 'unsigned', thinking_blocks: [
        { type: 'thinking', thinking: 'signed', signature: 'sig1' },
        { type: 'thinking', thinking: 'no signature' },
        { type: 'redacted_thinking', data: 'opaque' },
      ] },
      { role: 'user', content: 'more' },
    ] });
    assert.deepEqual((body.messages as any[])[1].content, [
      { type: 'thinking', thinking: 'signed', signature: 'sig1' },
      { type: 'redacted_thinking', data: 'opaque' },
      { type: 'text', text: 'a' },
    ]);
  });

  test('empty text is left out and turns that end up empty disappear', () => {
    const { body } = o2a({ ...base, messages: [
      { role: 'user', content: 'a' },
      { role: 'assistant', content: '' },
      { role: 'user', content: [{ type: 'text', text: '' }, { type: 'text', text: 'b' }] },
    ] });
    assert.deepEqual(body.messages, [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }]);
  });

  test('a tool message followed by user text: tool_result blocks come first in the merged turn', () => {
    const { body } = o2a({ ...base, messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'done' },
      { role: 'user', content: 'thanks' },
    ] });
    assert.deepEqual((body.messages as any[])[2].content, [
      { type: 'tool_result', tool_use_id: 'c1', content: 'done' },
      { type: 'text', text: 'thanks' },
    ]);
  });
});

describe('round trips', () => {
  test('Claude Code request → OpenAI → Anthropic keeps text, tool calls, results and images', () => {
    const src = cc();
    const o = a2o(src).body;
    const back = o2a(o).body as any;
    assert.equal(back.system[0].text, src.system.map((b: any) => b.text).join('\n\n'));
    assert.deepEqual(back.messages.map((m: any) => m.role), ['user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user']);
    const uses = back.messages.flatMap((m: any) => m.content.filter((b: any) => b.type === 'tool_use'));
    const orig = src.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content.filter((b: any) => b.type === 'tool_use') : []));
    assert.deepEqual(uses, orig.map((b: any) => ({ type: 'tool_use', id: b.id, name: b.name, input: b.input })));
    assert.deepEqual(back.messages[0].content[2], { type: 'image', source: src.messages[0].content[2].source });
    assert.deepEqual(back.messages[6].content, [
      { type: 'tool_result', tool_use_id: 'toolu_01D3kPqR8sTuV2wXyZ4aBcDe', content: 'Todos have been modified successfully.' },
      { type: 'text', text: 'Also make sure the tests still pass.' },
    ]);
    assert.equal(back.max_tokens, 32000);
    // The OpenAI hop carries Claude Code's long id as its SHA-256 (OpenAI takes 64 characters).
    assert.equal(back.metadata.user_id, createHash('sha256').update(src.metadata.user_id).digest('hex'));
    assert.equal(back.tools.length, src.tools.length);
  });

  test('Codex request → Anthropic → OpenAI keeps the conversation', () => {
    const src = codex();
    const a = o2a(src).body;
    const back = a2o({ ...a, model: 'x' }).body as any;
    assert.deepEqual(back.messages.map((m: any) => m.role), ['system', 'user', 'assistant', 'tool', 'assistant', 'tool', 'tool']);
    assert.deepEqual(back.messages[2].tool_calls[0].function.name, 'shell');
    assert.deepEqual(JSON.parse(back.messages[2].tool_calls[0].function.arguments), JSON.parse(src.messages[3].tool_calls[0].function.arguments));
    assert.equal(back.messages[6].content, src.messages[7].content[0].text);
    assert.deepEqual(back.tools.map((t: any) => t.function), src.tools.map((t: any) => t.function));
    assert.equal(back.parallel_tool_calls, false);
  });
});

test('TranslationError is exported for instanceof checks', () => {
  assert.throws(() => a2o({ messages: [] }), TranslationError);
});

describe('prompt-cache breakpoints (cline #5067, claude-code #378: a gateway must keep them)', () => {
  const eph = { type: 'ephemeral' };

  test('OpenAI-format breakpoints reach Anthropic: parts, message-level, tool messages, tools', () => {
    const { body } = o2a({
      model: 'claude-via-openai',
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } }, cache_control: eph }],
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'long system prompt', cache_control: eph }] },
        { role: 'user', content: [{ type: 'text', text: 'context' }, { type: 'text', text: 'question', cache_control: eph }] },
        { role: 'assistant', content: 'calling', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }], cache_control: eph },
        { role: 'tool', tool_call_id: 'c1', content: 'result', cache_control: eph },
        { role: 'user', content: 'next', cache_control: eph },
      ],
    });
    assert.deepEqual(body.system, [{ type: 'text', text: 'long system prompt', cache_control: eph }]);
    assert.deepEqual((body.tools as any[])[0].cache_control, eph);
    const m = body.messages as any[];
    assert.deepEqual(m[0].content, [{ type: 'text', text: 'context' }, { type: 'text', text: 'question', cache_control: eph }]);
    assert.deepEqual(m[1].content, [{ type: 'text', text: 'calling' }, { type: 'tool_use', id: 'c1', name: 'f', input: {}, cache_control: eph }]);
    assert.deepEqual(m[2].content, [{ type: 'tool_result', tool_use_id: 'c1', content: 'result', cache_control: eph }, { type: 'text', text: 'next', cache_control: eph }]);
  });

  test('Claude Code breakpoints survive an OpenAI-compatible hop that serves Claude (keepCacheControl)', () => {
    const src = cc();
    const { body } = a2o(src, { keepCacheControl: true });
    const m = body.messages as any[];
    assert.deepEqual(m[0].content, src.system.map((b: any) => (b.cache_control ? { type: 'text', text: b.text, cache_control: b.cache_control } : { type: 'text', text: b.text })));
    assert.deepEqual(m[m.length - 1], { role: 'user', content: [{ type: 'text', text: 'Also make sure the tests still pass.', cache_control: eph }] });
    // And back to Anthropic on the far side of that hop: the same breakpoints, in the same places.
    const back = o2a(body).body as any;
    assert.deepEqual(back.system.map((b: any) => b.cache_control), [undefined, eph, eph]);
    const last = back.messages[back.messages.length - 1].content;
    assert.deepEqual(last[last.length - 1], { type: 'text', text: 'Also make sure the tests still pass.', cache_control: eph });
    assert.equal(JSON.stringify(back).split('"cache_control"').length - 1, 3, 'no breakpoint added or lost');
  });

  test('tool results and tools keep breakpoints with keepCacheControl; assistant text with one goes as parts', () => {
    const { body } = a2o({
      model: 'c',
      tools: [{ name: 't', input_schema: { type: 'object' }, cache_control: eph }],
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: [{ type: 'text', text: 'ok', cache_control: eph }, { type: 'tool_use', id: 'x', name: 't', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'x', content: 'done', cache_control: eph }] },
      ],
    }, { keepCacheControl: true });
    const m = body.messages as any[];
    assert.deepEqual((body.tools as any[])[0].cache_control, eph);
    assert.deepEqual(m[1].content, [{ type: 'text', text: 'ok', cache_control: eph }]);
    assert.deepEqual(m[2], { role: 'tool', tool_call_id: 'x', content: 'done', cache_control: eph });
  });
});
