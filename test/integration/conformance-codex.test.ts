// Codex's wire contract (issue 5): its Responses API request (/v1/responses) passed through to an
// OpenAI deployment that serves the Responses API, and translated for a chat-only deployment and
// for an Anthropic one; its chat request (/v1/chat/completions) translated for an Anthropic
// deployment. Recorded upstream streams are replayed whole and in small pieces, and the client's
// stream is checked event by event.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { call } from '../support/http';
import { accumulateOpenAI, accumulateResponses } from '../unit/translate-helpers';
import { agentBody, chatTrace, codexHeaders, fixture, fixtureJson, gatewayRig, parsedEvents, PIECES, readEvents, responsesTrace, SIGNATURE_ONLY } from './conformance-helpers';

const RESPONSES_REQUEST = 'translate/codex-responses-request.json';
const CHAT_REQUEST = 'translate/codex-chat-request.json';
const NATIVE_RESPONSES = fixture('conformance/openai-responses-stream.sse');
const CHAT_STREAM = fixture('conformance/openai-stream-codex.sse');
const ANTHROPIC_STREAM = fixture('translate/anthropic-stream-thinking-tools.sse');
const SIGNATURE = SIGNATURE_ONLY;

const AUTH = codexHeaders();

/** The recorded Codex request's developer messages: they reach a chat model as system messages. */
function developerTexts(): string[] {
  return fixtureJson(RESPONSES_REQUEST).input.filter((i: any) => i.role === 'developer').map((i: any) => i.content.map((p: any) => p.text).join(''));
}

/** The recorded request's function tools, as chat declares them. */
function functionTools(): { name: string; description: string; parameters: unknown }[] {
  return fixtureJson(RESPONSES_REQUEST).tools.filter((t: any) => t.type === 'function').map((t: any) => ({ name: t.name, description: t.description, parameters: t.parameters }));
}

/** Reasoning, text and two function calls from a chat upstream, as Codex reads them. */
const CHAT_TO_RESPONSES_TRACE = [
  'response.created',
  'response.in_progress',
  'response.output_item.added 0 reasoning',
  'response.reasoning_summary_part.added',
  'response.reasoning_summary_text.delta 0 Both uses are renamed; ',
  'response.reasoning_summary_text.delta 0 now run the tests — schnell.',
  'response.reasoning_summary_text.done',
  'response.reasoning_summary_part.done',
  'response.output_item.done 0 reasoning',
  'response.output_item.added 1 message',
  'response.content_part.added',
  'response.output_text.delta 1 Patched. Running the tests',
  'response.output_text.delta 1  ✓',
  'response.output_text.done',
  'response.content_part.done',
  'response.output_item.done 1 message',
  'response.output_item.added 2 function_call shell',
  'response.function_call_arguments.delta 2 {"command":["bash","-lc",',
  'response.function_call_arguments.delta 2 "npm test"],"workdir":"/home/dev/proj"}',
  'response.function_call_arguments.done',
  'response.output_item.done 2 function_call shell',
  'response.output_item.added 3 function_call update_plan',
  'response.function_call_arguments.delta 3 {"plan":[{"step":"Rename sum to add","status":"completed"},',
  'response.function_call_arguments.delta 3 {"step":"Run tests","status":"in_progress"}]}',
  'response.function_call_arguments.done',
  'response.output_item.done 3 function_call update_plan',
  'response.completed',
];

describe('Codex through the gateway', () => {
  const rig = gatewayRig(
    (url) => `
  - model_name: gpt-5-codex
    litellm_params: { model: openai/gpt-5-codex, api_base: ${url}/v1, api_key: sk-oa-upstream }
  - model_name: codex-vllm
    litellm_params: { model: hosted_vllm/qwen3-coder-480b, api_base: ${url}/v1 }
  - model_name: codex-claude
    litellm_params: { model: anthropic/claude-sonnet-4-5-20250929, api_base: ${url}, api_key: sk-ant-upstream }
`,
  );

  async function responses(sse: Buffer, model: string, chunkBytes?: number): Promise<string> {
    rig.mock.enqueue({ sse, chunkBytes });
    const r = await call(rig.url, '/v1/responses', { headers: AUTH, body: agentBody(RESPONSES_REQUEST, model) });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['content-type'], 'text/event-stream');
    return r.text;
  }

  async function chat(sse: Buffer, body: Buffer = agentBody(CHAT_REQUEST, 'codex-claude'), chunkBytes?: number): Promise<string> {
    rig.mock.enqueue({ sse, chunkBytes });
    const r = await call(rig.url, '/v1/chat/completions', { headers: AUTH, body });
    assert.equal(r.status, 200, r.text);
    return r.text;
  }

  describe('/v1/responses', () => {
    it('passes through to an OpenAI deployment: the request and the stream byte for byte, at any chunking', async () => {
      const sent = agentBody(RESPONSES_REQUEST);
      for (const chunkBytes of PIECES) {
        rig.mock.reset();
        rig.mock.enqueue({ sse: NATIVE_RESPONSES, chunkBytes });
        const r = await call(rig.url, '/v1/responses', { headers: AUTH, body: sent });
        assert.equal(r.text, NATIVE_RESPONSES.toString('utf8'), `pieces of ${chunkBytes ?? 'all'} bytes`);
        const seen = rig.mock.requests[0]!;
        assert.equal(seen.path, '/v1/responses');
        assert.ok(seen.body.equals(sent), 'custom tools, reasoning items, include, prompt_cache_key: every byte as sent');
        assert.equal(seen.headers.authorization, 'Bearer sk-oa-upstream');
      }
    });

    it('to a chat-only deployment: the request becomes chat, the stream comes back event by event', async () => {
      for (const chunkBytes of PIECES) {
        rig.mock.reset();
        const text = await responses(CHAT_STREAM, 'codex-vllm', chunkBytes);
        assert.deepEqual(responsesTrace(text), CHAT_TO_RESPONSES_TRACE, `pieces of ${chunkBytes ?? 'all'} bytes`);
        accumulateResponses(text);
      }
      const seen = rig.mock.requests[0]!;
      assert.equal(seen.path, '/v1/chat/completions');
      const src = fixtureJson(RESPONSES_REQUEST);
      assert.equal(seen.json.model, 'qwen3-coder-480b');
      const [dev0, dev1] = developerTexts();
      const call = src.input.find((i: any) => i.type === 'function_call');
      const output = src.input.find((i: any) => i.type === 'function_call_output');
      assert.deepEqual(seen.json.messages, [
        { role: 'system', content: dev0 },
        { role: 'system', content: dev1 },
        { role: 'user', content: src.input[2].content[0].text },
        { role: 'user', content: src.input[3].content[0].text },
        { role: 'assistant', content: null, tool_calls: [{ id: call.call_id, type: 'function', function: { name: 'exec_command', arguments: call.arguments } }] },
        { role: 'tool', tool_call_id: call.call_id, content: output.output },
      ]);
      // Its function tools are chat function tools; what becomes of its namespace and hosted tools is the translator's choice.
      for (const t of functionTools()) {
        const got = seen.json.tools.find((c: any) => c.function.name === t.name);
        assert.deepEqual(got, { type: 'function', function: { ...t, strict: false } }, t.name);
      }
      assert.equal(seen.json.reasoning_effort, undefined, 'Codex asks for no effort with this model');
      assert.deepEqual(seen.json.stream_options, { include_usage: true });
    });

    it('to a chat-only deployment: the completed response lists every item and the usage', async () => {
      const { terminal, output } = accumulateResponses(await responses(CHAT_STREAM, 'codex-vllm', 5));
      assert.equal(terminal.type, 'response.completed');
      assert.equal(terminal.response.model, 'codex-vllm');
      assert.deepEqual(output.map((i: any) => [i.type, i.name ?? null]), [['reasoning', null], ['message', null], ['function_call', 'shell'], ['function_call', 'update_plan']]);
      assert.deepEqual(output[2], {
        type: 'function_call',
        id: output[2].id,
        call_id: 'call_T3stRun9Qx',
        name: 'shell',
        arguments: '{"command":["bash","-lc","npm test"],"workdir":"/home/dev/proj"}',
        status: 'completed',
      });
      assert.deepEqual(terminal.response.usage, {
        input_tokens: 9120,
        input_tokens_details: { cached_tokens: 8064 },
        output_tokens: 214,
        output_tokens_details: { reasoning_tokens: 128 },
        total_tokens: 9334,
      });
    });

    it('to an Anthropic deployment: thinking, text and tool_use come back as reasoning, message and function_call items', async () => {
      for (const chunkBytes of PIECES) {
        rig.mock.reset();
        const text = await responses(ANTHROPIC_STREAM, 'codex-claude', chunkBytes);
        assert.deepEqual(responsesTrace(text), [
          'response.created',
          'response.in_progress',
          'response.output_item.added 0 reasoning',
          'response.reasoning_summary_part.added',
          'response.reasoning_summary_text.delta 0 Two files need ',
          'response.reasoning_summary_text.delta 0 the rename.',
          'response.reasoning_summary_text.done',
          'response.reasoning_summary_part.done',
          'response.output_item.done 0 reasoning',
          'response.output_item.added 1 message',
          'response.content_part.added',
          'response.output_text.delta 1 Renaming in ',
          'response.output_text.delta 1 both files.',
          'response.output_text.done',
          'response.content_part.done',
          'response.output_item.done 1 message',
          'response.output_item.added 2 function_call shell',
          'response.function_call_arguments.delta 2 {"command": ["bash", "-lc", ',
          'response.function_call_arguments.delta 2 "rg -n sum src"]',
          'response.function_call_arguments.delta 2 }',
          'response.function_call_arguments.done',
          'response.output_item.done 2 function_call shell',
          'response.output_item.added 3 function_call update_plan',
          'response.function_call_arguments.delta 3 {"plan": [{"step": "Rename", ',
          'response.function_call_arguments.delta 3 "status": "in_progress"}]}',
          'response.function_call_arguments.done',
          'response.output_item.done 3 function_call update_plan',
          'response.completed',
        ], `pieces of ${chunkBytes ?? 'all'} bytes`);
      }
      const seen = rig.mock.requests[0]!;
      assert.equal(seen.path, '/v1/messages');
      assert.equal(seen.headers['x-api-key'], 'sk-ant-upstream');
      assert.equal(seen.headers['anthropic-version'], '2023-06-01');
      assert.deepEqual(seen.json.system.map((b: any) => b.text), developerTexts());
      for (const t of functionTools()) {
        const got = seen.json.tools.find((c: any) => c.name === t.name);
        assert.deepEqual(got, { name: t.name, description: t.description, input_schema: t.parameters }, t.name);
      }
      assert.deepEqual(seen.json.messages.map((m: any) => m.role), ['user', 'assistant', 'user']);
    });

    it('#36091: cache_read_input_tokens reported through the Responses bridge', async () => {
      // From Anthropic: 472 uncached + 1024 written + 20480 read; Responses counts them all as input.
      const fromAnthropic = accumulateResponses(await responses(ANTHROPIC_STREAM, 'codex-claude', 7)).terminal.response.usage;
      assert.deepEqual(fromAnthropic, {
        input_tokens: 472 + 1024 + 20480,
        input_tokens_details: { cached_tokens: 20480 },
        output_tokens: 89,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 472 + 1024 + 20480 + 89,
      });
      const fromChat = accumulateResponses(await responses(CHAT_STREAM, 'codex-vllm')).terminal.response.usage;
      assert.equal(fromChat.input_tokens_details.cached_tokens, 8064);
    });

    it('a stream cut upstream ends in response.failed when translated, in an error event when passed through', async () => {
      rig.mock.enqueue({ sse: CHAT_STREAM, chunkBytes: 11, dropAfterBytes: CHAT_STREAM.indexOf('call_Pl4nD0n3') });
      const translated = await call(rig.url, '/v1/responses', { headers: AUTH, body: agentBody(RESPONSES_REQUEST, 'codex-vllm') });
      assert.equal(translated.status, 200, translated.text);
      const { terminal } = accumulateResponses(translated.text);
      assert.equal(terminal.type, 'response.failed');
      assert.equal(terminal.response.error.code, 'server_error');
      assert.match(terminal.response.error.message, /could not complete the call/);

      const cut = NATIVE_RESPONSES.indexOf('response.function_call_arguments.delta') + 40; // mid-event
      rig.mock.enqueue({ sse: NATIVE_RESPONSES, chunkBytes: 64, dropAfterBytes: cut });
      const passed = await call(rig.url, '/v1/responses', { headers: AUTH, body: agentBody(RESPONSES_REQUEST) });
      const events = parsedEvents(passed.text);
      const last = events.at(-1)!;
      assert.equal(last.event, 'error', 'the documented Responses error event');
      assert.equal(last.json.type, 'error');
      assert.equal(last.json.code, 'api_connection_error');
      assert.match(last.json.message, /could not complete the call/);
      const whole = readEvents(NATIVE_RESPONSES.subarray(0, cut).toString('utf8')).map((e) => JSON.parse(e.data).type);
      assert.deepEqual(events.slice(0, -1).map((e) => e.json.type), whole, 'the events before the cut, and nothing of the cut one');
    });
  });

  // Codex 0.171 (recorded offline): a `namespace` tool (multi_agent_v1) and the hosted web_search
  // on every request; history with a namespaced function_call and a view_image output. It used to
  // be a 400 (`unknown tool type 'namespace'`). Codex runs a namespaced call only when it carries
  // `name` and `namespace` apart, so that is what it must get back, streamed and not.
  describe('Codex 0.171: namespace tools and web_search, translated', () => {
    const NAMESPACE_REQUEST = 'translate/codex-0.171-namespace-request.json';
    const SPAWN_ARGS = '{"message":"review the diff","fork_context":false}';
    /** A chat upstream calling the flattened spawn_agent, in three argument fragments. */
    const chatSpawn = (): Buffer => {
      const chunk = (delta: unknown, finish: string | null = null) => `data: ${JSON.stringify({ id: 'chatcmpl-ns', object: 'chat.completion.chunk', created: 1, model: 'q', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      return Buffer.from(
        chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_sp4wn', type: 'function', function: { name: 'multi_agent_v1__spawn_agent', arguments: '' } }] }) +
          chunk({ tool_calls: [{ index: 0, function: { arguments: SPAWN_ARGS.slice(0, 12) } }] }) +
          chunk({ tool_calls: [{ index: 0, function: { arguments: SPAWN_ARGS.slice(12) } }] }) +
          chunk({}, 'tool_calls') +
          `data: ${JSON.stringify({ id: 'chatcmpl-ns', object: 'chat.completion.chunk', created: 1, model: 'q', choices: [], usage: { prompt_tokens: 900, completion_tokens: 20, total_tokens: 920 } })}\n\ndata: [DONE]\n\n`,
      );
    };

    it('to a chat-only deployment: flat function tools up, web_search left out and named, the call back with its namespace', async () => {
      for (const chunkBytes of PIECES) {
        rig.mock.reset();
        rig.mock.enqueue({ sse: chatSpawn(), chunkBytes });
        const r = await call(rig.url, '/v1/responses', { headers: AUTH, body: agentBody(NAMESPACE_REQUEST, 'codex-vllm') });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.headers['x-weir-dropped-tools'], 'web_search');
        const { terminal, output } = accumulateResponses(r.text);
        assert.equal(terminal.type, 'response.completed');
        assert.deepEqual(output, [{ type: 'function_call', id: output[0].id, call_id: 'call_sp4wn', name: 'spawn_agent', namespace: 'multi_agent_v1', arguments: SPAWN_ARGS, status: 'completed' }], `pieces of ${chunkBytes ?? 'all'} bytes`);
      }
      const seen = rig.mock.requests[0]!;
      assert.equal(seen.path, '/v1/chat/completions');
      assert.deepEqual(seen.json.tools.map((t: any) => t.function.name), ['exec_command', 'view_image', 'multi_agent_v1__close_agent', 'multi_agent_v1__spawn_agent']);
      const calls = seen.json.messages.filter((m: any) => m.tool_calls).map((m: any) => m.tool_calls[0].function.name);
      assert.deepEqual(calls, ['multi_agent_v1__close_agent', 'view_image'], 'the namespaced call in the history goes up flat too');
      assert.equal(seen.json.messages.at(-1).content[0].type, 'image_url', 'the image view_image returned follows the tool messages');
    });

    it('not streamed: the same function_call with its namespace, and the header', async () => {
      const body = fixtureJson(NAMESPACE_REQUEST);
      body.model = 'codex-vllm';
      body.stream = false;
      rig.mock.enqueue({ json: { id: 'chatcmpl-ns', object: 'chat.completion', created: 1, model: 'q', choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_sp4wn', type: 'function', function: { name: 'multi_agent_v1__spawn_agent', arguments: SPAWN_ARGS } }] }, finish_reason: 'tool_calls' }], usage: { prompt_tokens: 900, completion_tokens: 20, total_tokens: 920 } } });
      const r = await call(rig.url, '/v1/responses', { headers: AUTH, body });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-weir-dropped-tools'], 'web_search');
      assert.deepEqual(r.json.output.map((o: any) => [o.type, o.name, o.namespace, o.arguments]), [['function_call', 'spawn_agent', 'multi_agent_v1', SPAWN_ARGS]]);
    });

    it('to an Anthropic deployment: Claude calls the flat name, Codex gets name and namespace', async () => {
      const ev = (type: string, o: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...o })}\n\n`;
      const sse = Buffer.from(
        ev('message_start', { message: { id: 'msg_ns', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, usage: { input_tokens: 900, output_tokens: 1 } } }) +
          ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_sp4wn', name: 'multi_agent_v1__spawn_agent', input: {} } }) +
          ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: SPAWN_ARGS } }) +
          ev('content_block_stop', { index: 0 }) +
          ev('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 20 } }) +
          ev('message_stop', {}),
      );
      rig.mock.enqueue({ sse });
      const r = await call(rig.url, '/v1/responses', { headers: AUTH, body: agentBody(NAMESPACE_REQUEST, 'codex-claude') });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-weir-dropped-tools'], 'web_search');
      const { output } = accumulateResponses(r.text);
      assert.deepEqual(output.map((o: any) => [o.type, o.name, o.namespace, JSON.parse(o.arguments)]), [['function_call', 'spawn_agent', 'multi_agent_v1', JSON.parse(SPAWN_ARGS)]]);
      const seen = rig.mock.requests[0]!;
      assert.deepEqual(seen.json.tools.map((t: any) => t.name), ['exec_command', 'view_image', 'multi_agent_v1__close_agent', 'multi_agent_v1__spawn_agent']);
      assert.equal(seen.json.system.length, 2, "Codex's leading developer messages are the system prompt");
    });
  });

  describe('/v1/chat/completions to an Anthropic deployment', () => {
    /** The recorded Anthropic stream (thinking, text, two tool_use blocks) as chat chunks. */
    const EXPECTED = [
      'role assistant',
      'reasoning Two files need ',
      'reasoning the rename.',
      'thinking_blocks thinking::EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds',
      'content Renaming in ',
      'content both files.',
      'tool_call 0 toolu_01T1x1fJ34qAmk2tNTrN7Up6 shell ',
      'args 0 {"command": ["bash", "-lc", ',
      'args 0 "rg -n sum src"]',
      'args 0 }',
      'tool_call 1 toolu_01Vq3bNsyo5Xy6tqY4TLpWx2 update_plan ',
      'args 1 {"plan": [{"step": "Rename", ',
      'args 1 "status": "in_progress"}]}',
      'finish tool_calls',
    ];

    it('the Codex chat request reaches Anthropic with its tool calls and results paired by id', async () => {
      await chat(ANTHROPIC_STREAM);
      const seen = rig.mock.requests[0]!;
      assert.equal(seen.path, '/v1/messages');
      const m = seen.json.messages;
      assert.deepEqual(m.map((x: any) => x.role), ['user', 'assistant', 'user', 'assistant', 'user']);
      assert.deepEqual(m[1].content, [{ type: 'tool_use', id: 'call_Xk2p9QeA7wVb3nRt', name: 'shell', input: { command: ['bash', '-lc', 'rg -n "sum\\(" src'], workdir: '/home/dev/proj', timeout_ms: 120000 } }]);
      assert.deepEqual(m[2].content.map((b: any) => [b.type, b.tool_use_id]), [['tool_result', 'call_Xk2p9QeA7wVb3nRt']]);
      assert.deepEqual(m[4].content.map((b: any) => [b.type, b.tool_use_id]), [['tool_result', 'call_Pl4n0ZyX'], ['tool_result', 'call_P4tch9Qw']]);
      const src = fixtureJson(CHAT_REQUEST);
      assert.deepEqual(seen.json.tools[0], { name: 'shell', description: src.tools[0].function.description, input_schema: src.tools[0].function.parameters });
      assert.equal(seen.headers['anthropic-beta'], undefined, 'an OpenAI client sends no betas, and none are made up');
    });

    it('streams chat chunks event by event: tool_calls with index, id and name, then argument fragments; finish tool_calls; the usage chunk', async () => {
      for (const chunkBytes of PIECES) {
        rig.mock.reset();
        const text = await chat(ANTHROPIC_STREAM, undefined, chunkBytes);
        assert.deepEqual(chatTrace(text), [...EXPECTED, 'usage 21976/89 cached 20480', '[DONE]'], `pieces of ${chunkBytes ?? 'all'} bytes`);
        const r = accumulateOpenAI(text);
        assert.equal(r.finish_reason, 'tool_calls');
        assert.deepEqual(r.message.tool_calls.map((c: any) => [c.id, c.function.name, JSON.parse(c.function.arguments)]), [
          ['toolu_01T1x1fJ34qAmk2tNTrN7Up6', 'shell', { command: ['bash', '-lc', 'rg -n sum src'] }],
          ['toolu_01Vq3bNsyo5Xy6tqY4TLpWx2', 'update_plan', { plan: [{ step: 'Rename', status: 'in_progress' }] }],
        ]);
        assert.deepEqual(r.usage, {
          prompt_tokens: 21976,
          completion_tokens: 89,
          total_tokens: 22065,
          prompt_tokens_details: { cached_tokens: 20480, cache_creation_tokens: 1024 },
          cache_read_input_tokens: 20480,
          cache_creation_input_tokens: 1024,
        });
      }
    });

    it('no usage chunk when the client did not ask for one', async () => {
      const body = fixtureJson(CHAT_REQUEST);
      body.model = 'codex-claude';
      delete body.stream_options;
      const text = await chat(ANTHROPIC_STREAM, Buffer.from(JSON.stringify(body)), 5);
      assert.deepEqual(chatTrace(text), [...EXPECTED, '[DONE]']);
    });

    it('#38809: a signature-only thinking block goes up as a thinking block and comes back as thinking_blocks', async () => {
      const body = fixtureJson(CHAT_REQUEST);
      body.model = 'codex-claude';
      // A LiteLLM-style client replays the last assistant turn with its (text-less) thinking block.
      body.messages[5].thinking_blocks = [{ type: 'thinking', thinking: '', signature: SIGNATURE }];
      const text = await chat(fixture('conformance/anthropic-stream-signature-only.sse'), Buffer.from(JSON.stringify(body)), 3);
      const assistant = rig.mock.requests[0]!.json.messages[3];
      assert.deepEqual(assistant.content[0], { type: 'thinking', thinking: '', signature: SIGNATURE });
      assert.deepEqual(chatTrace(text), [
        'role assistant',
        `thinking_blocks thinking::${SIGNATURE}`,
        'tool_call 0 toolu_01B7yjWq3xQqHw2pLz7Gm4Ka Read ',
        'args 0 {"file_path": "/work/app/src/util.ts"}',
        'finish tool_calls',
        'usage 22325/41 cached 22316',
        '[DONE]',
      ]);
    });

    it('a stream cut upstream ends in an OpenAI error chunk', async () => {
      rig.mock.enqueue({ sse: ANTHROPIC_STREAM, chunkBytes: 13, dropAfterBytes: ANTHROPIC_STREAM.indexOf('update_plan') });
      const r = await call(rig.url, '/v1/chat/completions', { headers: AUTH, body: agentBody(CHAT_REQUEST, 'codex-claude') });
      const trace = chatTrace(r.text);
      assert.equal(trace.at(-1), 'error api_error');
      assert.ok(!trace.includes('[DONE]'));
      assert.ok(trace.includes('args 0 }'), 'what arrived before the cut came through');
    });
  });

  describe('/v1/chat/completions to an OpenAI deployment', () => {
    it('passes through byte for byte; a cut mid-event ends in a whole OpenAI error chunk', async () => {
      const sent = agentBody(CHAT_REQUEST);
      const text = await chat(CHAT_STREAM, sent, 5);
      assert.equal(text, CHAT_STREAM.toString('utf8'));
      assert.ok(rig.mock.requests[0]!.body.equals(sent));
      assert.equal(rig.mock.requests[0]!.path, '/v1/chat/completions');

      const cut = CHAT_STREAM.indexOf('call_Pl4nD0n3'); // inside the event that starts the second call
      rig.mock.enqueue({ sse: CHAT_STREAM, chunkBytes: 32, dropAfterBytes: cut });
      const r = await call(rig.url, '/v1/chat/completions', { headers: AUTH, body: sent });
      const trace = chatTrace(r.text);
      assert.equal(trace.at(-1), 'error api_connection_error');
      const whole = readEvents(CHAT_STREAM.subarray(0, cut).toString('utf8')).length;
      assert.equal(trace.length, whole + 1, 'the whole events before the cut, then the error');
    });
  });
});
