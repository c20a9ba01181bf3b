// The mock upstream's scripted answers: each API's whole event sequence as its provider sends it,
// read back by the independent stream readers of the translate tests, and the server answering a
// scripted turn on each route in the route's own dialect.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anthropicTrace, chatTrace, parsedEvents, responsesTrace } from '../integration/conformance-helpers';
import { fragments, scriptedAnswer, type ScriptedParams, type ScriptedReply } from '../support/mock-scripted';
import { startMockUpstream } from '../support/mock-upstream';
import { offersTool, toolCall, toolResult } from '../support/tool-loop';
import { accumulateOpenAI, accumulateResponses } from './translate-helpers';

const P: ScriptedParams = { id: 'x1', model: 'm', created: 1_800_000_000, inputTokens: 40, stream: true, includeUsage: true };
const TEXT: ScriptedReply = { text: 'The command printed: ok' };
const CALL: ScriptedReply = { toolCall: { id: 'call_1', name: 'Bash', arguments: '{"command":"printf ok"}' } };

function sse(api: 'anthropic' | 'chat' | 'responses', reply: ScriptedReply, p: ScriptedParams = P): string {
  const a = scriptedAnswer(api, reply, p);
  assert.ok('events' in a);
  return a.events.join('');
}

function body(api: 'anthropic' | 'chat' | 'responses', reply: ScriptedReply): any {
  const a = scriptedAnswer(api, reply, { ...P, stream: false });
  assert.ok('json' in a);
  return JSON.parse(a.json);
}

describe('scripted answers', () => {
  it('fragments: three pieces that join back, short strings whole', () => {
    assert.deepEqual(fragments('abcdefghi'), ['abc', 'def', 'ghi']);
    assert.deepEqual(fragments('ab'), ['ab']);
    assert.equal(fragments('{"command":"printf ok"}').join(''), '{"command":"printf ok"}');
  });

  it('Anthropic: message_start, ping, one block with its deltas, message_delta with the stop reason, message_stop', () => {
    assert.deepEqual(anthropicTrace(sse('anthropic', CALL)), [
      'message_start',
      'ping',
      'start 0 tool_use call_1 Bash',
      'delta 0 input_json_delta ',
      'delta 0 input_json_delta {"comma',
      'delta 0 input_json_delta nd":"pri',
      'delta 0 input_json_delta ntf ok"}',
      'stop 0',
      'message_delta tool_use',
      'message_stop',
    ]);
    assert.deepEqual(anthropicTrace(sse('anthropic', TEXT)), [
      'message_start',
      'ping',
      'start 0 text',
      'delta 0 text_delta The com',
      'delta 0 text_delta mand pri',
      'delta 0 text_delta nted: ok',
      'stop 0',
      'message_delta end_turn',
      'message_stop',
    ]);
    const m = body('anthropic', CALL);
    assert.deepEqual([m.type, m.stop_reason, m.content], ['message', 'tool_use', [{ type: 'tool_use', id: 'call_1', name: 'Bash', input: { command: 'printf ok' } }]]);
    assert.deepEqual(body('anthropic', TEXT).content, [{ type: 'text', text: TEXT.text }]);
  });

  it('chat: role delta, tool_calls deltas by index (id and name first), finish_reason tool_calls, the usage chunk, [DONE]', () => {
    const text = sse('chat', CALL);
    assert.deepEqual(chatTrace(text), [
      'role assistant',
      'tool_call 0 call_1 Bash ',
      'args 0 {"comma',
      'args 0 nd":"pri',
      'args 0 ntf ok"}',
      'finish tool_calls',
      'usage 40/6 cached 0',
      '[DONE]',
    ]);
    const r = accumulateOpenAI(text);
    assert.deepEqual(r.message.tool_calls, [{ id: 'call_1', type: 'function', function: { name: 'Bash', arguments: '{"command":"printf ok"}' } }]);
    assert.equal(accumulateOpenAI(sse('chat', TEXT)).message.content, TEXT.text);
    assert.ok(!chatTrace(sse('chat', TEXT, { ...P, includeUsage: false })).some((l) => l.startsWith('usage')), 'no usage chunk unless asked');
    const c = body('chat', CALL);
    assert.equal(c.choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(c.choices[0].message.tool_calls[0].function, { name: 'Bash', arguments: '{"command":"printf ok"}' });
  });

  it('Responses: created, in_progress, the item added, its deltas and .done events, the item done, completed with the usage', () => {
    const text = sse('responses', CALL);
    assert.deepEqual(responsesTrace(text), [
      'response.created',
      'response.in_progress',
      'response.output_item.added 0 function_call Bash',
      'response.function_call_arguments.delta 0 {"comma',
      'response.function_call_arguments.delta 0 nd":"pri',
      'response.function_call_arguments.delta 0 ntf ok"}',
      'response.function_call_arguments.done',
      'response.output_item.done 0 function_call Bash',
      'response.completed',
    ]);
    const { terminal, output } = accumulateResponses(text);
    assert.deepEqual(output, [{ id: 'fc_x1', type: 'function_call', status: 'completed', arguments: '{"command":"printf ok"}', call_id: 'call_1', name: 'Bash' }]);
    assert.deepEqual(terminal.response.usage, { input_tokens: 40, input_tokens_details: { cached_tokens: 0 }, output_tokens: 6, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 46 });
    assert.deepEqual(responsesTrace(sse('responses', TEXT)), [
      'response.created',
      'response.in_progress',
      'response.output_item.added 0 message',
      'response.content_part.added',
      'response.output_text.delta 0 The com',
      'response.output_text.delta 0 mand pri',
      'response.output_text.delta 0 nted: ok',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done 0 message',
      'response.completed',
    ]);
    assert.equal(accumulateResponses(sse('responses', TEXT)).output[0].content[0].text, TEXT.text);
    const r = body('responses', CALL);
    assert.deepEqual([r.object, r.status, r.output[0].type, r.output[0].call_id], ['response', 'completed', 'function_call', 'call_1']);
  });

  it('a namespaced call: Responses carries `namespace` beside `name` (as Codex runs an MCP tool); the APIs without namespaces refuse it', () => {
    const call: ScriptedReply = { toolCall: { id: 'call_2', namespace: 'mcp__weir_memory', name: 'remember', arguments: '{"title":"t","body":"b"}' } };
    const item = { id: 'fc_x1', type: 'function_call', status: 'completed', arguments: '{"title":"t","body":"b"}', call_id: 'call_2', name: 'remember', namespace: 'mcp__weir_memory' };
    const text = sse('responses', call);
    assert.deepEqual(accumulateResponses(text).output, [item]);
    const added = parsedEvents(text).find((e) => e.event === 'response.output_item.added')!.json;
    assert.equal(added.item.namespace, 'mcp__weir_memory', 'the item is namespaced from the start');
    assert.deepEqual(body('responses', call).output, [item]);
    for (const api of ['anthropic', 'chat'] as const) {
      assert.throws(() => scriptedAnswer(api, call, P), /only the Responses API has namespaces/);
    }

    // The tool loop's readers: the namespace tool offered, and the call replayed with its namespace.
    const request = {
      tools: [{ type: 'function', name: 'exec_command' }, { type: 'namespace', name: 'mcp__weir_memory', tools: [{ type: 'function', name: 'remember' }] }],
      input: [{ ...item, id: undefined }, { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: 'kept' }] }],
    };
    assert.equal(offersTool('responses', request, 'remember', 'mcp__weir_memory'), true);
    assert.equal(offersTool('responses', request, 'remember'), false, 'a namespaced tool is not a top-level one');
    assert.equal(offersTool('responses', request, 'exec_command', 'mcp__weir_memory'), false);
    assert.equal(offersTool('responses', request, 'exec_command'), true);
    assert.equal(offersTool('chat', { tools: [{ type: 'function', function: { name: 'remember' } }] }, 'remember', 'mcp__weir_memory'), false);
    assert.deepEqual(toolCall('responses', request, 'call_2'), { name: 'remember', namespace: 'mcp__weir_memory', input: { title: 't', body: 'b' } });
    assert.equal(toolResult('responses', request, 'call_2'), 'kept');
  });

  it('the server answers a scripted turn on each route, in the route’s dialect, decided from the request', async () => {
    const mock = await startMockUpstream();
    try {
      const seen: string[] = [];
      mock.setDefault({
        reply: ({ api, json }) => {
          seen.push(`${api} ${json.model}`);
          return { text: `answer to ${api}` };
        },
      });
      const post = (path: string, b: object) => fetch(mock.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
      const m: any = await (await post('/v1/messages', { model: 'a', messages: [] })).json();
      assert.deepEqual(m.content, [{ type: 'text', text: 'answer to anthropic' }]);
      const chat = await post('/v1/chat/completions', { model: 'c', stream: true, messages: [] });
      assert.equal(chat.headers.get('content-type'), 'text/event-stream');
      assert.equal(accumulateOpenAI(await chat.text()).message.content, 'answer to chat');
      const resp = await post('/v1/responses', { model: 'r', stream: true, input: [] });
      assert.equal(accumulateResponses(await resp.text()).output[0].content[0].text, 'answer to responses');
      assert.deepEqual(seen, ['anthropic a', 'chat c', 'responses r']);
      // Routes that are not turns keep their generated answers.
      assert.deepEqual(await (await post('/v1/messages/count_tokens', { model: 'a', messages: [] })).json(), { input_tokens: 7 });
      // A script that cannot answer (here a namespaced call on chat) is a 500 naming why, in the
      // route's dialect; the mock and the test's process go on.
      mock.setDefault({ reply: { toolCall: { id: 'c9', namespace: 'mcp__weir_memory', name: 'remember', arguments: '{}' } } });
      const bad = await post('/v1/chat/completions', { model: 'c', messages: [] });
      assert.equal(bad.status, 500);
      assert.match(((await bad.json()) as any).error.message, /mock reply script failed: .*only the Responses API has namespaces/);
      mock.setDefault({ reply: { text: 'again' } });
      assert.deepEqual(((await (await post('/v1/messages', { model: 'a', messages: [] })).json()) as any).content, [{ type: 'text', text: 'again' }]);
    } finally {
      await mock.close();
    }
  });
});
