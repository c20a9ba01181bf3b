// The Responses API bridge (/v1/responses, Codex) onto chat completions: request, response and
// stream, on a hand-written request with every item type Codex sends (responses-request.json) and
// the same upstream streams as the chat tests.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  responsesToChat,
  chatResponseToResponses,
  ChatToResponsesStream,
  AnthropicToOpenAIStream,
  openAIChatToAnthropic,
  TranslationError,
  type ToResponsesContext,
} from '../../src/translate';
import { accumulateResponses, chunkings, fixtureBytes, fixtureJson, readSse, runStream } from './translate-helpers';

const codex = () => fixtureJson('responses-request.json');
const r2c = (body: unknown, opts: Record<string, unknown> = {}) => responsesToChat(body, { model: 'deepseek-chat', ...opts });

describe('Responses → chat request (Codex)', () => {
  test('instructions, messages, calls and outputs; reasoning items dropped', () => {
    const src = codex();
    const { body } = r2c(src);
    const m = body.messages as any[];
    assert.deepEqual(m.map((x) => x.role), ['system', 'user', 'user', 'assistant', 'tool', 'assistant', 'tool', 'user']);
    assert.deepEqual(m[0], { role: 'system', content: src.instructions });
    assert.equal(m[1].content, src.input[0].content[0].text);
    assert.deepEqual(m[3], { role: 'assistant', content: null, tool_calls: [{ id: 'call_Xk2p9QeA7wVb3nRt', type: 'function', function: { name: 'shell', arguments: src.input[3].arguments } }] });
    assert.deepEqual(m[4], { role: 'tool', tool_call_id: 'call_Xk2p9QeA7wVb3nRt', content: src.input[4].output });
    assert.equal(m[5].content, 'Found one definition. Patching it now.', 'assistant text and the call after it are one message');
    assert.deepEqual(m[5].tool_calls, [{ id: 'call_P4tch9Qw', type: 'function', function: { name: 'apply_patch', arguments: JSON.stringify({ input: src.input[6].input }) } }]);
    assert.deepEqual(m[7].content, [
      { type: 'text', text: 'Also add a test like the one in the screenshot.' },
      { type: 'image_url', image_url: { url: src.input[8].content[1].image_url } },
    ]);
  });

  test('parameters: tools (custom → one-string function with its grammar), tool_choice, reasoning, stream', () => {
    const src = codex();
    const { body, ctx } = r2c(src);
    assert.deepEqual(Object.keys(body).sort(), ['messages', 'model', 'parallel_tool_calls', 'reasoning_effort', 'stream', 'stream_options', 'tool_choice', 'tools'].sort());
    const tools = body.tools as any[];
    assert.deepEqual(tools[0], { type: 'function', function: { name: 'shell', description: src.tools[0].description, parameters: src.tools[0].parameters, strict: false } });
    assert.equal(tools[2].function.name, 'apply_patch');
    assert.deepEqual(tools[2].function.parameters.required, ['input']);
    assert.ok(tools[2].function.description.includes(src.tools[2].format.definition), 'the grammar travels in the description');
    assert.equal(body.tool_choice, 'auto');
    assert.equal(body.parallel_tool_calls, false);
    assert.equal(body.reasoning_effort, 'medium');
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.deepEqual([...ctx.customTools!], ['apply_patch']);
    assert.equal(ctx.model, 'gpt-5-codex');
    assert.ok(ctx.estimatedInputTokens! > 100);
    assert.deepEqual(ctx.echo.tool_choice, 'auto');
  });

  test('string input, developer messages, max_output_tokens, text.format, safety_identifier', () => {
    const { body } = r2c({
      model: 'x',
      input: [{ role: 'developer', content: 'Be terse.' }, { role: 'user', content: 'hi' }],
      max_output_tokens: 500,
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true } },
      safety_identifier: 'user-7',
    }, { maxTokensField: 'max_completion_tokens' });
    assert.deepEqual(body.messages, [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'hi' }]);
    assert.equal(body.max_completion_tokens, 500);
    assert.deepEqual(body.response_format, { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } });
    assert.equal(body.user, 'user-7');
    assert.deepEqual(r2c({ input: 'just text' }).body.messages, [{ role: 'user', content: 'just text' }]);
  });

  test('hosted tools: left out and named by default, a 400 on request', () => {
    const withSearch = { ...codex(), tools: [...codex().tools, { type: 'web_search' }] };
    const r = r2c(withSearch);
    assert.equal((r.body.tools as any[]).length, 3);
    assert.equal(r.dropped?.tools, 'web_search');
    assert.throws(() => r2c(withSearch, { hostedTools: 'error' }), (e: unknown) => e instanceof TranslationError && e.param === 'tools[3].type' && /hosted tool/.test(e.message));
  });

  test('errors: stored state, unpaired calls and outputs, unknown items', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ input: 'x', previous_response_id: 'resp_1' }, 'previous_response_id', /keeps no conversation state/],
      [{ input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].type', /stored items/],
      [{ input: [{ type: 'function_call_output', call_id: 'c9', output: 'x' }] }, 'input[0].call_id', /matches no earlier function call/],
      [{ input: [{ role: 'user', content: 'q' }, { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' }] }, 'input[1]', /has no function_call_output/],
      [{ input: [{ role: 'user', content: [{ text: 'no type' }] }] }, 'input[0].content[0].type', /expected a string/],
      [{ input: [{ role: 'assistant', content: [{ type: 'input_image', image_url: 'https://x/y.png' }] }] }, 'input[0].content[0].type', /only allowed in user messages/],
      [{ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] }, 'input[0].content[0].image_url', /file_id needs the Files API/],
      [{ model: 'x' }, 'input', /required/],
      [{ input: 'x', tools: [{ type: 'function', name: 'f' }, { type: 'function', name: 'f' }] }, 'tools[1].name', /duplicate/],
      [{ input: 'x', tools: [{ type: 'function', name: 'f' }], tool_choice: { type: 'function', name: 'g' } }, 'tool_choice.name', /no tool named 'g'/],
    ];
    for (const [body, param, re] of cases) {
      assert.throws(() => r2c(body), (e: unknown) => e instanceof TranslationError && e.status === 400 && e.param === param && re.test(e.message), JSON.stringify(body));
    }
  });

  test('chained to Anthropic: the Codex request reaches Claude with its tool loop intact', () => {
    const { body } = r2c(codex());
    const a = openAIChatToAnthropic(body, { model: 'claude-sonnet-4-5' }).body as any;
    assert.deepEqual(a.messages.map((m: any) => m.role), ['user', 'assistant', 'user', 'assistant', 'user']);
    assert.deepEqual(a.messages[3].content[1], { type: 'tool_use', id: 'call_P4tch9Qw', name: 'apply_patch', input: { input: codex().input[6].input } });
    assert.equal(a.messages[4].content[0].type, 'tool_result');
    assert.equal(a.messages[4].content[2].type, 'image');
  });
});

// Codex 0.171, recorded offline against a local server: its tools include a `namespace`
// (multi_agent_v1: spawn_agent, close_agent, …) and the hosted `web_search`; with GPT-6 models it
// declares them in an `additional_tools` input item instead. Codex runs a namespaced tool only
// when the call names it as `name` + `namespace` (a flat `multi_agent_v1__close_agent` answers
// "unsupported call"), so a chat upstream sees flat names (Codex's own canonical_flat_name:
// namespace, `__`, name) and the calls come back split again.
describe('Codex 0.171 on a chat-only deployment: namespaces, hosted tools, what chat cannot carry', () => {
  const ns = () => fixtureJson('codex-0.171-namespace-request.json');
  const gpt6 = () => fixtureJson('codex-0.171-additional-tools-request.json');

  test('a namespace becomes flat function tools; web_search is left out and named', () => {
    const src = ns();
    const { body, ctx, dropped } = r2c(src);
    const tools = body.tools as any[];
    assert.deepEqual(tools.map((t) => t.function.name), ['exec_command', 'view_image', 'multi_agent_v1__close_agent', 'multi_agent_v1__spawn_agent']);
    const member = src.tools[2].tools[0];
    assert.deepEqual(tools[2], { type: 'function', function: { name: 'multi_agent_v1__close_agent', description: member.description, parameters: member.parameters, strict: false } });
    assert.equal(dropped?.tools, 'web_search');
    assert.equal(dropped?.items, null);
    assert.deepEqual([...ctx.namespaced!], [
      ['multi_agent_v1__close_agent', { namespace: 'multi_agent_v1', name: 'close_agent' }],
      ['multi_agent_v1__spawn_agent', { namespace: 'multi_agent_v1', name: 'spawn_agent' }],
    ]);
  });

  test('history: a namespaced call goes up under its flat name; an image a tool returned follows the tool messages', () => {
    const src = ns();
    const m = r2c(src).body.messages as any[];
    assert.deepEqual(m.map((x) => x.role), ['system', 'system', 'user', 'user', 'assistant', 'tool', 'assistant', 'tool', 'user']);
    assert.deepEqual(m[4].tool_calls, [{ id: 'call_1', type: 'function', function: { name: 'multi_agent_v1__close_agent', arguments: src.input[4].arguments } }]);
    assert.deepEqual(m[5], { role: 'tool', tool_call_id: 'call_1', content: src.input[5].output });
    assert.equal(m[7].content, '(the tool returned image output; it follows in the next user message)');
    assert.deepEqual(m[8], { role: 'user', content: [{ type: 'image_url', image_url: { url: src.input[7].output[0].image_url, detail: 'high' } }] });
  });

  test('a chat answer calling a flat name comes back as a function_call with its namespace, streamed and not', () => {
    const { ctx } = r2c(ns());
    const args = '{"message":"review the diff"}';
    const whole = chatResponseToResponses({ id: 'chatcmpl-n', choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_s', type: 'function', function: { name: 'multi_agent_v1__spawn_agent', arguments: args } }] }, finish_reason: 'tool_calls' }] }, ctx);
    assert.deepEqual(whole.output, [{ type: 'function_call', id: 'fc_n_0', call_id: 'call_s', name: 'spawn_agent', namespace: 'multi_agent_v1', arguments: args, status: 'completed' }]);
    const sse = [
      { tool_calls: [{ index: 0, id: 'call_s', type: 'function', function: { name: 'multi_agent_v1__spawn_agent', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: args.slice(0, 9) } }] },
      { tool_calls: [{ index: 0, function: { arguments: args.slice(9) } }] },
      { tool_calls: [{ index: 1, id: 'call_e', type: 'function', function: { name: 'exec_command', arguments: '{"cmd":"ls"}' } }] },
    ].map((d) => `data: ${JSON.stringify({ id: 'chatcmpl-n', choices: [{ index: 0, delta: d }] })}\n\n`).join('') +
      `data: ${JSON.stringify({ id: 'chatcmpl-n', choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] })}\n\ndata: [DONE]\n\n`;
    const { events, output } = accumulateResponses(runStream(new ChatToResponsesStream(ctx), [sse]));
    const added = events.find((e) => e.type === 'response.output_item.added').item;
    assert.deepEqual([added.name, added.namespace], ['spawn_agent', 'multi_agent_v1']);
    assert.deepEqual(output.map((o: any) => [o.type, o.name, o.namespace, o.arguments]), [
      ['function_call', 'spawn_agent', 'multi_agent_v1', args],
      ['function_call', 'exec_command', undefined, '{"cmd":"ls"}'],
    ]);
  });

  test('GPT-6 style: tools declared in an additional_tools item, a freeform tool inside a namespace', () => {
    const src = gpt6();
    const { body, ctx } = r2c(src);
    const tools = body.tools as any[];
    assert.deepEqual(tools.map((t) => t.function.name), ['functions__exec', 'functions__wait', 'clock__sleep']);
    assert.deepEqual(tools[0].function.parameters.required, ['input'], 'a freeform tool takes one string');
    assert.ok(tools[0].function.description.includes('pragma_source'), 'its grammar travels in the description');
    const m = body.messages as any[];
    assert.deepEqual(m.map((x) => x.role), ['system', 'user', 'user', 'assistant', 'tool']);
    assert.deepEqual(m[3].tool_calls[0].function, { name: 'functions__exec', arguments: JSON.stringify({ input: src.input[4].input }) });
    assert.equal(m[4].content, 'Script completed\nWall time 0.1 seconds\nOutput:\nhello from exec');
    const call = { id: 'call_x', type: 'function', function: { name: 'functions__exec', arguments: JSON.stringify({ input: 'text(1)' }) } };
    const out = chatResponseToResponses({ id: 'chatcmpl-g', choices: [{ index: 0, message: { role: 'assistant', tool_calls: [call] }, finish_reason: 'tool_calls' }] }, ctx).output as any[];
    assert.deepEqual(out, [{ type: 'custom_tool_call', id: 'fc_g_0', call_id: 'call_x', name: 'exec', namespace: 'functions', input: 'text(1)', status: 'completed' }]);
  });

  test('tool_choice naming a namespaced tool, with or without its namespace; one naming a hosted tool is left out', () => {
    const tc = (tool_choice: unknown) => r2c({ ...ns(), tool_choice });
    assert.deepEqual(tc({ type: 'function', name: 'spawn_agent', namespace: 'multi_agent_v1' }).body.tool_choice, { type: 'function', function: { name: 'multi_agent_v1__spawn_agent' } });
    assert.deepEqual(tc({ type: 'function', name: 'spawn_agent' }).body.tool_choice, { type: 'function', function: { name: 'multi_agent_v1__spawn_agent' } });
    const hosted = tc({ type: 'web_search' });
    assert.equal(hosted.body.tool_choice, undefined);
    assert.equal(hosted.dropped?.items, "tool_choice (type 'web_search')");
    assert.throws(() => tc({ type: 'function', name: 'nope' }), (e: unknown) => e instanceof TranslationError && e.param === 'tool_choice.name');
  });

  test('a flat name over 64 characters is shortened LiteLLM-style and split again on the way back', () => {
    const longNs = 'mcp__github_enterprise_server_with_a_long_name';
    const { body, ctx } = r2c({ input: 'hi', tools: [{ type: 'namespace', name: longNs, tools: [{ type: 'function', name: 'create_or_update_file', parameters: { type: 'object', properties: {} } }] }] });
    const flat = (body.tools as any[])[0].function.name as string;
    assert.equal(flat.length, 64);
    assert.match(flat, /^[a-zA-Z0-9_-]+$/);
    const out = chatResponseToResponses({ id: 'chatcmpl-l', choices: [{ index: 0, message: { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: flat, arguments: '{}' } }] }, finish_reason: 'tool_calls' }] }, ctx).output as any[];
    assert.deepEqual([out[0].name, out[0].namespace], ['create_or_update_file', longNs]);
  });

  test('input items and parts chat cannot carry are left out and named, with the outputs of dropped calls', () => {
    const r = r2c({ input: [
      { type: 'compaction', encrypted_content: 'gAAAA' },
      { role: 'user', content: [{ type: 'input_text', text: 'q' }, { type: 'input_video', url: 'x' }] },
      { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'x' } },
      { type: 'local_shell_call', call_id: 'ls_1', status: 'completed', action: { type: 'exec', command: ['ls'] } },
      { type: 'local_shell_call_output', call_id: 'ls_1', output: 'a.txt' },
      { role: 'user', content: 'next' },
    ] });
    assert.deepEqual(r.body.messages, [{ role: 'user', content: 'q' }, { role: 'user', content: 'next' }]);
    assert.equal(r.dropped?.items, "input[0] (type 'compaction'); input[1].content[1] (type 'input_video'); input[2] (type 'web_search_call'); input[3] (type 'local_shell_call'); input[4] (type 'local_shell_call_output')");
  });

  test('chained to Anthropic: flat names reach Claude, and its tool_use comes back split', () => {
    const { body, ctx } = r2c(ns());
    const a = openAIChatToAnthropic(body, { model: 'claude-sonnet-4-5' });
    assert.deepEqual((a.body.tools as any[]).map((t) => t.name), ['exec_command', 'view_image', 'multi_agent_v1__close_agent', 'multi_agent_v1__spawn_agent']);
    assert.equal((a.body.messages as any[])[1].content[0].name, 'multi_agent_v1__close_agent');
    const sse = [
      ['message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: [], usage: { input_tokens: 5, output_tokens: 1 } } }],
      ['content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'multi_agent_v1__close_agent', input: {} } }],
      ['content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"target":"a1"}' } }],
      ['content_block_stop', { index: 0 }],
      ['message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } }],
      ['message_stop', {}],
    ].map(([t, o]) => `event: ${t}\ndata: ${JSON.stringify({ type: t, ...(o as object) })}\n\n`).join('');
    const a2c = new AnthropicToOpenAIStream({ ...a.ctx, includeUsage: true });
    const c2r = new ChatToResponsesStream(ctx);
    const text = c2r.push(a2c.push(sse)) + c2r.push(a2c.end()) + c2r.end();
    const { output } = accumulateResponses(text);
    assert.deepEqual(output.map((o: any) => [o.type, o.name, o.namespace, o.arguments]), [['function_call', 'close_agent', 'multi_agent_v1', '{"target":"a1"}']]);
  });
});

describe('chat response → Response object', () => {
  const ctx: ToResponsesContext = { model: 'gpt-5-codex', echo: { tool_choice: 'auto', parallel_tool_calls: false }, customTools: new Set(['apply_patch']), createdAt: 1700000000 };
  const chat = (message: Record<string, unknown>, finish = 'tool_calls') => ({
    id: 'chatcmpl-Z9',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
    usage: { prompt_tokens: 900, completion_tokens: 60, total_tokens: 960, prompt_tokens_details: { cached_tokens: 512 }, completion_tokens_details: { reasoning_tokens: 20 } },
  });

  test('reasoning, text, a function call and a freeform call become output items', () => {
    const r = chatResponseToResponses(
      chat({
        reasoning_content: 'Plan the patch.',
        content: 'Patching.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'shell', arguments: '{"command":["ls"]}' } },
          { id: 'call_2', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch\\n*** End Patch\\n"}' } },
        ],
      }),
      ctx,
    );
    assert.equal(r.id, 'resp_Z9');
    assert.equal(r.status, 'completed');
    assert.equal(r.model, 'gpt-5-codex');
    assert.equal(r.parallel_tool_calls, false);
    assert.deepEqual(r.output, [
      { type: 'reasoning', id: 'rs_Z9', summary: [{ type: 'summary_text', text: 'Plan the patch.' }] },
      { type: 'message', id: 'msg_Z9', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Patching.', annotations: [] }] },
      { type: 'function_call', id: 'fc_Z9_0', call_id: 'call_1', name: 'shell', arguments: '{"command":["ls"]}', status: 'completed' },
      { type: 'custom_tool_call', id: 'fc_Z9_1', call_id: 'call_2', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch\n', status: 'completed' },
    ]);
    assert.deepEqual(r.usage, { input_tokens: 900, input_tokens_details: { cached_tokens: 512 }, output_tokens: 60, output_tokens_details: { reasoning_tokens: 20 }, total_tokens: 960 });
  });

  test('finish_reason length → status incomplete with max_output_tokens', () => {
    const r = chatResponseToResponses(chat({ content: 'cut' }, 'length'), ctx);
    assert.equal(r.status, 'incomplete');
    assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
  });
});

describe('chat stream → Responses stream', () => {
  const ctx: ToResponsesContext = { model: 'gpt-5-codex', echo: {}, createdAt: 1700000000, customTools: new Set(['apply_patch']) };

  test('reasoning, text and two function calls, with usage in response.completed', () => {
    const { events, terminal, output } = accumulateResponses(runStream(new ChatToResponsesStream(ctx), [fixtureBytes('openai-stream-reasoning-tools.sse')]));
    assert.equal(terminal.type, 'response.completed');
    assert.equal(terminal.response.status, 'completed');
    assert.deepEqual(output.map((o: any) => o.type), ['reasoning', 'message', 'function_call', 'function_call']);
    assert.deepEqual(output[0].summary, [{ type: 'summary_text', text: "The build fails because `sum` is not exported. I'll check both files." }]);
    assert.equal(output[1].content[0].text, 'Let me look at the files.');
    assert.deepEqual([output[2].call_id, output[2].name, JSON.parse(output[2].arguments)], ['call_DdmO9pD3xa9XTPNJ32zg2hcA', 'Read', { file_path: '/work/app/src/util.ts' }]);
    assert.deepEqual(terminal.response.usage, { input_tokens: 5230, input_tokens_details: { cached_tokens: 4096 }, output_tokens: 96, output_tokens_details: { reasoning_tokens: 40 }, total_tokens: 5326 });
    assert.ok(events.filter((e) => e.type === 'response.function_call_arguments.delta').length >= 6, 'arguments stream as they arrive');
  });

  test('every chunking gives byte-identical output', () => {
    const buf = fixtureBytes('openai-stream-reasoning-tools.sse');
    const c = { ...ctx, responseId: 'resp_fixed' };
    const ref = runStream(new ChatToResponsesStream(c), [buf]);
    for (const k of chunkings(buf)) assert.equal(runStream(new ChatToResponsesStream(c), k.chunks), ref, k.name);
  });

  test('a freeform tool call arrives whole as a custom_tool_call with its text input', () => {
    const patch = '*** Begin Patch\n*** Add File: t.ts\n+test\n*** End Patch\n';
    const args = JSON.stringify({ input: patch });
    const sse = [
      { tool_calls: [{ index: 0, id: 'call_p', type: 'function', function: { name: 'apply_patch', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: args.slice(0, 20) } }] },
      { tool_calls: [{ index: 0, function: { arguments: args.slice(20) } }] },
    ].map((d) => `data: ${JSON.stringify({ id: 'chatcmpl-c', choices: [{ index: 0, delta: d }] })}\n\n`).join('') +
      `data: ${JSON.stringify({ id: 'chatcmpl-c', choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] })}\n\ndata: [DONE]\n\n`;
    const { events, output } = accumulateResponses(runStream(new ChatToResponsesStream(ctx), [sse]));
    assert.deepEqual(output, [{ type: 'custom_tool_call', id: output[0].id, call_id: 'call_p', name: 'apply_patch', input: patch, status: 'completed' }]);
    assert.deepEqual(events.filter((e) => e.type.startsWith('response.custom_tool_call_input')).map((e) => e.type), ['response.custom_tool_call_input.delta', 'response.custom_tool_call_input.done']);
  });

  test('finish_reason length → response.incomplete', () => {
    const sse = `data: ${JSON.stringify({ id: 'x', choices: [{ index: 0, delta: { content: 'cut' }, finish_reason: 'length' }] })}\n\ndata: [DONE]\n\n`;
    const { terminal } = accumulateResponses(runStream(new ChatToResponsesStream(ctx), [sse]));
    assert.equal(terminal.type, 'response.incomplete');
    assert.deepEqual(terminal.response.incomplete_details, { reason: 'max_output_tokens' });
  });

  test('cut stream, upstream error and fail() end with response.failed', () => {
    const cut = accumulateResponses(runStream(new ChatToResponsesStream(ctx), [`data: ${JSON.stringify({ id: 'x', choices: [{ index: 0, delta: { content: 'par' } }] })}\n\n`]));
    assert.equal(cut.terminal.type, 'response.failed');
    assert.match(cut.terminal.response.error.message, /ended before/);
    const err = accumulateResponses(runStream(new ChatToResponsesStream(ctx), [`data: ${JSON.stringify({ error: { message: 'quota', code: 'insufficient_quota' } })}\n\n`]));
    assert.deepEqual(err.terminal.response.error, { code: 'insufficient_quota', message: 'quota' });
    const s = new ChatToResponsesStream(ctx);
    s.push(`data: ${JSON.stringify({ id: 'x', choices: [{ index: 0, delta: { content: 'a' } }] })}\n\n`);
    assert.equal(JSON.parse(readSse(s.fail('timed out', 504))[0]!.data).response.error.code, 'server_error');
    assert.equal(s.end(), '');
  });

  test('Codex on Claude: Anthropic stream → chat → Responses', () => {
    const a2c = new AnthropicToOpenAIStream({ model: 'gpt-5-codex', includeUsage: true });
    const c2r = new ChatToResponsesStream(ctx);
    let out = '';
    for (const chunk of chunkings(fixtureBytes('anthropic-stream-thinking-tools.sse'))[1]!.chunks) out += c2r.push(a2c.push(chunk));
    out += c2r.push(a2c.end()) + c2r.end();
    const { terminal, output } = accumulateResponses(out);
    assert.deepEqual(output.map((o: any) => o.type), ['reasoning', 'message', 'function_call', 'function_call']);
    assert.equal(output[1].content[0].text, 'Renaming in both files.');
    assert.deepEqual(JSON.parse(output[2].arguments), { command: ['bash', '-lc', 'rg -n sum src'] });
    assert.deepEqual(terminal.response.usage.input_tokens_details, { cached_tokens: 20480 });
    assert.deepEqual(c2r.usage, { input_tokens: 472, output_tokens: 89, cache_read_input_tokens: 20480, cache_creation_input_tokens: 1024 });
  });
});
