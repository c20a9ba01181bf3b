// Every TranslationError the request translators raise (status 400, a message that says what is
// wrong, and the JSON path of the value in `param`), and the error-body mappings.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  anthropicToOpenAIChat,
  openAIChatToAnthropic,
  openAIChatResponseToAnthropic,
  anthropicResponseToOpenAIChat,
  TranslationError,
  openAIErrorToAnthropic,
  anthropicErrorToOpenAI,
} from '../../src/translate';

function rejects(fn: () => unknown, param: string | null, message: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TranslationError, `expected a TranslationError, got ${String(e)}`);
    assert.equal(e.status, 400);
    assert.equal(e.type, 'invalid_request_error');
    assert.equal(e.param, param);
    assert.match(e.message, message);
    return;
  }
  assert.fail('expected a TranslationError');
}

const a2o = (body: unknown) => anthropicToOpenAIChat(body, { model: 'gpt-4.1' });
const o2a = (body: unknown) => openAIChatToAnthropic(body, { model: 'claude' });
const A = (extra: Record<string, unknown>) => ({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], ...extra });
const O = (extra: Record<string, unknown>) => ({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }], ...extra });
const tool = (name: string, input_schema: unknown = { type: 'object', properties: {} }) => ({ name, input_schema });
const fn = (name: string, parameters: unknown = { type: 'object', properties: {} }) => ({ type: 'function', function: { name, parameters } });
const img = (media_type: string, data: string) => ({ type: 'image', source: { type: 'base64', media_type, data } });
const BIG = 'A'.repeat(Math.ceil(((5 * 1024 * 1024 + 1) * 4) / 3) + 4);

describe('Anthropic → OpenAI request errors', () => {
  test('body is not an object', () => rejects(() => a2o([]), 'body', /expected an object/));
  test('messages missing', () => rejects(() => a2o({ model: 'x' }), 'messages', /required/));
  test('messages not an array', () => rejects(() => a2o({ messages: 'hi' }), 'messages', /expected an array/));
  test('messages empty', () => rejects(() => a2o({ messages: [] }), 'messages', /at least one message/));
  test('a message is not an object', () => rejects(() => a2o({ messages: ['hi'] }), 'messages[0]', /expected an object/));
  test('an unknown role inside messages', () => rejects(() => a2o({ messages: [{ role: 'critic', content: 'x' }] }), 'messages[0].role', /'user', 'assistant' or 'system'/));
  test('content neither string nor array', () => rejects(() => a2o({ messages: [{ role: 'user', content: 42 }] }), 'messages[0].content', /string or an array/));
  test('image in an assistant message', () =>
    rejects(() => a2o({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [img('image/png', 'iVBO')] }] }), 'messages[1].content[0].type', /only allowed in user messages/));
  test('tool_use in a user message', () =>
    rejects(() => a2o({ messages: [{ role: 'user', content: [{ type: 'tool_use', id: 'a', name: 'b', input: {} }] }] }), 'messages[0].content[0].type', /only allowed in assistant messages/));
  test('a content block whose type is not a string', () =>
    rejects(() => a2o({ messages: [{ role: 'user', content: [{ type: 7 }] }] }), 'messages[0].content[0].type', /expected a string/));
  test('Anthropic server tool, when asked to refuse them (serverTools: error)', () =>
    rejects(
      () => anthropicToOpenAIChat(A({ tools: [tool('Read'), { type: 'web_search_20250305', name: 'web_search', max_uses: 5 }] }), { model: 'gpt-4.1', serverTools: 'error' }),
      'tools[1].type',
      /'web_search_20250305' is an Anthropic server tool/,
    ));
  test('text block without text', () => rejects(() => a2o({ messages: [{ role: 'user', content: [{ type: 'text' }] }] }), 'messages[0].content[0].text', /expected a string/));
  test('tool_use input that is not an object', () =>
    rejects(
      () => a2o({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'n', input: 'x' }] }] }),
      'messages[1].content[0].input',
      /expected an object/,
    ));
  test('tool_use with an empty id', () =>
    rejects(() => a2o({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'tool_use', id: '', name: 'n', input: {} }] }] }), 'messages[1].content[0].id', /must not be empty/));
  test('duplicate tool_use ids', () =>
    rejects(
      () =>
        a2o({
          messages: [
            { role: 'user', content: 'q' },
            { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'n', input: {} }, { type: 'tool_use', id: 't', name: 'n', input: {} }] },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'x' }] },
          ],
        }),
      'messages[1].content[1].id',
      /duplicate tool_use id 't'/,
    ));
  test('tool_use with no tool_result in the next user turn', () =>
    rejects(
      () =>
        a2o({
          messages: [
            { role: 'user', content: 'q' },
            { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: {} }, { type: 'tool_use', id: 'toolu_2', name: 'Bash', input: {} }] },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }] },
          ],
        }),
      'messages[1].content[1]',
      /tool_use 'toolu_2' has no tool_result/,
    ));
  test('tool_use in the last message with no user turn after it', () =>
    rejects(
      () => a2o({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_9', name: 'Bash', input: {} }] }] }),
      'messages[1].content[0]',
      /tool_use 'toolu_9' has no tool_result/,
    ));
  test('tool_result whose id matches no tool_use', () =>
    rejects(
      () =>
        a2o({
          messages: [
            { role: 'user', content: 'q' },
            { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: {} }] },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }, { type: 'tool_result', tool_use_id: 'toolu_X', content: 'ok' }] },
          ],
        }),
      'messages[2].content[1].tool_use_id',
      /'toolu_X' matches no tool_use/,
    ));
  test('tool_result with no assistant tool_use before it', () =>
    rejects(() => a2o({ messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }] }] }), 'messages[0].content[0].tool_use_id', /matches no tool_use/));
  test('system with a non-text block', () => rejects(() => a2o(A({ system: [{ type: 'image' }] })), 'system[0].type', /only text blocks/));
  test('tools not an array', () => rejects(() => a2o(A({ tools: {} })), 'tools', /expected an array/));
  test('tool name with invalid characters', () => rejects(() => a2o(A({ tools: [tool('get weather')] })), 'tools[0].name', /not a valid tool name/));
  test('tool without input_schema', () => rejects(() => a2o(A({ tools: [{ name: 'x', type: 'custom' }] })), 'tools[0].input_schema', /"type": "object"/));
  test('input_schema that is not an object', () => rejects(() => a2o(A({ tools: [tool('x', 'string')] })), 'tools[0].input_schema', /JSON Schema object/));
  test('input_schema whose type is not object', () => rejects(() => a2o(A({ tools: [tool('x', { type: 'array', items: {} })] })), 'tools[0].input_schema', /"type": "object"/));
  test('duplicate tool names', () => rejects(() => a2o(A({ tools: [tool('Read'), tool('Bash'), tool('Read')] })), 'tools[2].name', /duplicate tool name 'Read'/));
  test('tool_choice naming no tool', () => rejects(() => a2o(A({ tools: [tool('Read')], tool_choice: { type: 'tool', name: 'Write' } })), 'tool_choice.name', /no tool named 'Write'/));
  test('tool_choice of an unknown type', () => rejects(() => a2o(A({ tools: [tool('Read')], tool_choice: { type: 'sometimes' } })), 'tool_choice.type', /auto, any, tool or none/));
  test('thinking of an unknown type', () => rejects(() => a2o(A({ thinking: { type: 'deep' } })), 'thinking.type', /enabled, adaptive or disabled/));
  test('thinking enabled without a budget', () => rejects(() => a2o(A({ thinking: { type: 'enabled' } })), 'thinking.budget_tokens', /required/));
  test('max_tokens not a positive integer', () => rejects(() => a2o(A({ max_tokens: 0 })), 'max_tokens', /positive integer/));
  test('temperature not a number', () => rejects(() => a2o(A({ temperature: 'hot' })), 'temperature', /expected a number/));
  test('stop_sequences with a non-string', () => rejects(() => a2o(A({ stop_sequences: ['a', 1] })), 'stop_sequences[1]', /expected a string/));
  test('output_format that is not json_schema', () => rejects(() => a2o(A({ output_format: { type: 'regex' } })), 'output_format.type', /only json_schema/));
  test('mcp_servers', () => rejects(() => a2o(A({ mcp_servers: [{ type: 'url', url: 'https://mcp.example.com', name: 'x' }] })), 'mcp_servers', /MCP connector/));
  test('image with an unsupported media type', () =>
    rejects(() => a2o(A({ messages: [{ role: 'user', content: [img('image/tiff', 'SUkqAA==')] }] })), 'messages[0].content[0].source.media_type', /image\/tiff.*not supported/));
  test('image over 5 MB', () => rejects(() => a2o(A({ messages: [{ role: 'user', content: [img('image/png', BIG)] }] })), 'messages[0].content[0].source.data', /5\.0 MB; the limit is 5 MB/));
  test('image with empty data', () => rejects(() => a2o(A({ messages: [{ role: 'user', content: [img('image/png', '')] }] })), 'messages[0].content[0].source.data', /empty/));
  test('image URL that is not http(s)', () =>
    rejects(() => a2o(A({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'file:///etc/passwd' } }] }] })), 'messages[0].content[0].source.url', /http\(s\)/));
  test('image from the Files API', () =>
    rejects(() => a2o(A({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'file_1' } }] }] })), 'messages[0].content[0].source.type', /'file' cannot be sent/));
  test('image inside a tool_result over 5 MB', () =>
    rejects(
      () =>
        a2o({
          messages: [
            { role: 'user', content: 'q' },
            { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'n', input: {} }] },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [img('image/png', BIG)] }] },
          ],
        }),
      'messages[2].content[0].content[0].source.data',
      /limit is 5 MB/,
    ));
  test('document of an unsupported type', () =>
    rejects(() => a2o(A({ messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/zip', data: 'UEs=' } }] }] })), 'messages[0].content[0].source.media_type', /not a supported document type/));
});

describe('OpenAI → Anthropic request errors', () => {
  const call = (id: string, args: unknown, name = 'f') => ({ id, type: 'function', function: { name, arguments: args } });
  test('body is not an object', () => rejects(() => o2a('hi'), 'body', /expected an object/));
  test('messages missing', () => rejects(() => o2a({ model: 'x' }), 'messages', /required/));
  test('messages not an array', () => rejects(() => o2a({ messages: {} }), 'messages', /expected an array/));
  test('messages empty', () => rejects(() => o2a({ messages: [] }), 'messages', /at least one message/));
  test('only system messages', () => rejects(() => o2a({ messages: [{ role: 'system', content: 'x' }] }), 'messages', /at least one user or assistant message/));
  test('unknown role', () => rejects(() => o2a({ messages: [{ role: 'critic', content: 'x' }] }), 'messages[0].role', /unknown role 'critic'/));
  test('a content part whose type is not a string', () => rejects(() => o2a({ messages: [{ role: 'user', content: [{ text: 'x' }] }] }), 'messages[0].content[0].type', /expected a string/));
  test('an image in a tool message is carried, a file is not (OpenAI takes neither there)', () =>
    rejects(
      () => o2a({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'c1', content: [{ type: 'file', file: { file_id: 'f' } }] }] }),
      'messages[2].content[0].type',
      /unsupported part type in a tool message \(got 'file'\)/,
    ));
  test('non-text part in a system message', () =>
    rejects(() => o2a({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }, { role: 'user', content: 'q' }] }), 'messages[0].content[0].type', /only text parts/));
  test('tool call arguments that are not JSON', () =>
    rejects(
      () => o2a({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', tool_calls: [call('c1', '{"a": ')] }, { role: 'tool', tool_call_id: 'c1', content: 'x' }] }),
      'messages[1].tool_calls[0].function.arguments',
      /not valid JSON/,
    ));
  test('tool call arguments that are not an object', () =>
    rejects(
      () => o2a({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', tool_calls: [call('c1', '[1,2]')] }, { role: 'tool', tool_call_id: 'c1', content: 'x' }] }),
      'messages[1].tool_calls[0].function.arguments',
      /must be a JSON object/,
    ));
  test('tool call without an id', () =>
    rejects(() => o2a({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{}' } }] }] }), 'messages[1].tool_calls[0].id', /expected a string/));
  test('duplicate tool call ids', () =>
    rejects(
      () => o2a({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', tool_calls: [call('c1', '{}'), call('c1', '{}')] }, { role: 'tool', tool_call_id: 'c1', content: 'x' }] }),
      'messages[1].tool_calls[1].id',
      /duplicate tool call id 'c1'/,
    ));
  test('tool call with no tool message answering it', () =>
    rejects(
      () => o2a({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', tool_calls: [call('c1', '{}'), call('c2', '{}')] }, { role: 'tool', tool_call_id: 'c1', content: 'x' }] }),
      'messages[1].tool_calls[1]',
      /tool call 'c2' has no tool message/,
    ));
  test('tool message whose id matches no tool call', () =>
    rejects(
      () => o2a({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', tool_calls: [call('c1', '{}')] }, { role: 'tool', tool_call_id: 'c1', content: 'x' }, { role: 'tool', tool_call_id: 'zz', content: 'y' }] }),
      'messages[3].tool_call_id',
      /'zz' matches no tool call/,
    ));
  test('tool message with no assistant before it', () => rejects(() => o2a({ messages: [{ role: 'tool', tool_call_id: 'c1', content: 'x' }] }), 'messages[0].tool_call_id', /matches no tool call/));
  test('function message with no function_call before it', () =>
    rejects(() => o2a({ messages: [{ role: 'user', content: 'q' }, { role: 'function', name: 'lookup', content: 'x' }] }), 'messages[1].name', /follows no assistant function_call/));
  test('function.parameters not an object', () => rejects(() => o2a(O({ tools: [fn('f', 'string')] })), 'tools[0].function.parameters', /JSON Schema object/));
  test('function.parameters of a type other than object', () => rejects(() => o2a(O({ tools: [fn('f', { type: 'array' })] })), 'tools[0].function.parameters.type', /must be "object"/));
  test('tool name with invalid characters', () => rejects(() => o2a(O({ tools: [fn('my.tool')] })), 'tools[0].function.name', /not a valid tool name/));
  test('tool name over 128 characters', () => rejects(() => o2a(O({ tools: [fn('x'.repeat(129))] })), 'tools[0].function.name', /not a valid tool name/));
  test('duplicate tool names', () => rejects(() => o2a(O({ tools: [fn('f'), fn('f')] })), 'tools[1].function.name', /duplicate tool name 'f'/));
  test('tool_choice naming no tool', () => rejects(() => o2a(O({ tools: [fn('f')], tool_choice: { type: 'function', function: { name: 'g' } } })), 'tool_choice', /no tool named 'g'/));
  test('tool_choice of an unknown value', () => rejects(() => o2a(O({ tools: [fn('f')], tool_choice: 'always' })), 'tool_choice', /expected 'auto'/));
  test('n greater than 1', () => rejects(() => o2a(O({ n: 3 })), 'n', /one choice/));
  test('unknown reasoning_effort', () => rejects(() => o2a(O({ reasoning_effort: 'extreme' })), 'reasoning_effort', /unknown value 'extreme'/));
  test('max_tokens not a positive integer', () => rejects(() => o2a(O({ max_tokens: 1.5 })), 'max_tokens', /positive integer/));
  test('image data URL with an unsupported media type', () =>
    rejects(() => o2a({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,Qk0=' } }] }] }), 'messages[0].content[0].image_url.url', /image\/bmp.*not supported/));
  test('image data URL over 5 MB', () =>
    rejects(() => o2a({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${BIG}` } }] }] }), 'messages[0].content[0].image_url.url', /limit is 5 MB/));
  test('image data URL that is not base64', () =>
    rejects(() => o2a({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/svg+xml,<svg/>' } }] }] }), 'messages[0].content[0].image_url.url', /must be base64/));
  test('image URL that is not http(s)', () =>
    rejects(() => o2a({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://host/x.png' } }] }] }), 'messages[0].content[0].image_url.url', /http\(s\)/));
  test('file part by file_id', () =>
    rejects(() => o2a({ messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-abc' } }] }] }), 'messages[0].content[0].file', /file_id is not supported/));
  test('file part that is not a PDF', () =>
    rejects(() => o2a({ messages: [{ role: 'user', content: [{ type: 'file', file: { file_data: 'data:text/csv;base64,YSxi' } }] }] }), 'messages[0].content[0].file.file_data', /not a supported document type/));
});

describe('error envelopes', () => {
  test('TranslationError renders in both dialects', () => {
    const e = new TranslationError('tools[0].name: bad', 'tools[0].name');
    assert.deepEqual(e.toOpenAI(), { error: { message: 'tools[0].name: bad', type: 'invalid_request_error', param: 'tools[0].name', code: '400' } });
    assert.deepEqual(e.toAnthropic(), { type: 'error', error: { type: 'invalid_request_error', message: 'tools[0].name: bad' } });
  });

  test('a malformed upstream response is a 502 TranslationError', () => {
    for (const f of [() => openAIChatResponseToAnthropic({ choices: [] }, { model: 'm' }), () => anthropicResponseToOpenAIChat({ type: 'message' }, { model: 'm' })]) {
      assert.throws(f, (e: unknown) => e instanceof TranslationError && e.status === 502 && e.type === 'api_error');
    }
  });

  test('OpenAI error body → Anthropic envelope, type from the status', () => {
    const body = { error: { message: 'Rate limit reached for gpt-4o', type: 'requests', param: null, code: 'rate_limit_exceeded' } };
    assert.deepEqual(openAIErrorToAnthropic(429, body), { type: 'error', error: { type: 'rate_limit_error', message: 'Rate limit reached for gpt-4o' } });
    assert.deepEqual(openAIErrorToAnthropic(400, Buffer.from(JSON.stringify(body))).error.message, 'Rate limit reached for gpt-4o');
    assert.deepEqual(openAIErrorToAnthropic(502, 'Bad Gateway'), { type: 'error', error: { type: 'api_error', message: 'Bad Gateway' } });
    assert.deepEqual(openAIErrorToAnthropic(503, ''), { type: 'error', error: { type: 'overloaded_error', message: 'upstream returned status 503' } });
    assert.deepEqual(openAIErrorToAnthropic(401, { message: 'bad key' }).error, { type: 'authentication_error', message: 'bad key' });
    assert.deepEqual(openAIErrorToAnthropic(404, { detail: 'Not Found' }).error, { type: 'not_found_error', message: 'Not Found' });
    assert.equal(openAIErrorToAnthropic(413, { error: 'too big' }).error.type, 'request_too_large');
  });

  test('Anthropic error body → OpenAI envelope, Anthropic type kept, code = status', () => {
    const body = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: 'req_1' };
    assert.deepEqual(anthropicErrorToOpenAI(529, body), { error: { message: 'Overloaded', type: 'overloaded_error', param: null, code: '529' } });
    assert.deepEqual(anthropicErrorToOpenAI(500, '<html>oops</html>'), { error: { message: '<html>oops</html>', type: 'api_error', param: null, code: '500' } });
    assert.deepEqual(anthropicErrorToOpenAI(403, {}).error.type, 'permission_error');
  });
});
