// Bad input on the translated paths: Weir, not the upstream, is the first line. What is certainly
// invalid (tools with invalid schemas, images over the limit, tool calls without their results,
// arguments that are not JSON, a body nested past the bound) is a clear 400 in the client's
// dialect, naming the offending parameter, and nothing is sent upstream. What is merely new to the
// translator (a content block, part or tool type it does not know, a tool the upstream cannot run)
// is not: the client's own API would serve it, and agents add such types every few weeks. It is
// left out, and the answer names it in x-weir-dropped / x-weir-dropped-tools. Native
// (same-dialect) calls stay byte pass-through: there the upstream owns its schema, which moves
// faster than any gateway.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { call, type Answer } from '../support/http';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';

/** Base64 text that decodes to `bytes` bytes. */
const base64Of = (bytes: number) => 'A'.repeat(Math.ceil(bytes / 3) * 4);
const SIX_MB = base64Of(6 * 1024 * 1024);

describe('bad input on translated paths', () => {
  let mock: MockUpstream;
  let gw: GatewayProcess;

  before(async () => {
    mock = await startMockUpstream();
    gw = await startGateway({
      workers: 1,
      config: `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: ${mock.url}/v1, api_key: sk-up }
  - model_name: claude
    litellm_params: { model: anthropic/claude-up, api_base: ${mock.url}, api_key: sk-ant-up }
  - model_name: vllm
    litellm_params: { model: hosted_vllm/qwen, api_base: ${mock.url}/v1 }
`,
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });

  /** Sends, and asserts a 400 in the Anthropic dialect that names `param`, with nothing sent upstream. */
  async function anthropic400(body: object, message: RegExp): Promise<Answer> {
    const before = mock.requests.length;
    const r = await call(gw.url, '/v1/messages', { body: { model: 'gpt', max_tokens: 32, ...body } });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.type, 'error');
    assert.equal(r.json.error.type, 'invalid_request_error');
    assert.match(r.json.error.message, message);
    assert.equal(mock.requests.length, before, 'nothing reached the upstream');
    return r;
  }

  /** The same for /v1/chat/completions to an Anthropic deployment, in the OpenAI dialect. */
  async function openai400(body: object, message: RegExp): Promise<Answer> {
    const before = mock.requests.length;
    const r = await call(gw.url, '/v1/chat/completions', { body: { model: 'claude', ...body } });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.type, 'invalid_request_error');
    assert.equal(r.json.error.code, '400');
    assert.match(r.json.error.message, message);
    assert.equal(mock.requests.length, before, 'nothing reached the upstream');
    return r;
  }

  const user = (content: unknown) => ({ role: 'user', content });

  describe('/v1/messages → OpenAI-dialect deployment', () => {
    it('a tool whose input_schema is not an object schema', async () => {
      await anthropic400({ tools: [{ name: 'Bash', input_schema: { type: 'string' } }], messages: [user('hi')] }, /tools\[0\]\.input_schema/);
      await anthropic400({ tools: [{ name: 'Bash' }], messages: [user('hi')] }, /tools\[0\]\.input_schema/);
    });

    it('a tool name the other API cannot carry', async () => {
      await anthropic400({ tools: [{ name: 'run shell!', input_schema: { type: 'object' } }], messages: [user('hi')] }, /tools\[0\]\.name/);
    });

    it('an unknown content block type is left out and named, not refused (it was a 400)', async () => {
      mock.reset();
      const r = await call(gw.url, '/v1/messages', { body: { model: 'gpt', max_tokens: 32, messages: [user([{ type: 'text', text: 'hi' }, { type: 'hologram', data: 'x' }])] } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-weir-dropped'], "messages[0].content[1] (type 'hologram')");
      assert.deepEqual(mock.requests[0]!.json.messages, [{ role: 'user', content: 'hi' }]);
      const s = await call(gw.url, '/v1/messages', { body: { model: 'gpt', max_tokens: 32, stream: true, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [user([{ type: 'hologram' }, { type: 'text', text: 'hi' }])] } });
      assert.equal(s.status, 200, s.text);
      assert.equal(s.headers['x-weir-dropped'], "messages[0].content[0] (type 'hologram')", 'on a stream too');
      assert.equal(s.headers['x-weir-dropped-tools'], 'web_search_20250305');
    });

    it('an image over 5 MB', async () => {
      const img = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: SIX_MB } };
      await anthropic400({ messages: [user([img, { type: 'text', text: 'what is it?' }])] }, /image is 6\.0 MB; the limit is 5 MB/);
    });

    it('an image of a media type no model takes', async () => {
      const img = { type: 'image', source: { type: 'base64', media_type: 'image/tiff', data: 'AAAA' } };
      await anthropic400({ messages: [user([img])] }, /image\/tiff/);
    });

    it('an assistant tool_use with no tool_result in the next turn', async () => {
      await anthropic400(
        {
          messages: [
            user('list files'),
            { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } }] },
            user('never mind'),
          ],
        },
        /toolu_1/,
      );
    });

    it('a tool_result that answers no tool_use', async () => {
      await anthropic400({ messages: [user([{ type: 'tool_result', tool_use_id: 'toolu_ghost', content: 'x' }])] }, /toolu_ghost/);
    });

    it('the same mistakes in a streaming request are a 400 too, not a broken stream', async () => {
      const r = await anthropic400({ stream: true, messages: [user([{ type: 'tool_result', tool_use_id: 'toolu_ghost', content: 'x' }])] }, /toolu_ghost/);
      assert.match(String(r.headers['content-type']), /application\/json/);
    });
  });

  describe('/v1/chat/completions → Anthropic deployment', () => {
    it('a function whose parameters are not an object schema', async () => {
      await openai400({ tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'array' } } }], messages: [user('hi')] }, /tools\[0\]\.function\.parameters\.type/);
    });

    it('a tool type Anthropic cannot take and an unknown content part type are left out and named (they were 400s)', async () => {
      mock.reset();
      const r = await call(gw.url, '/v1/chat/completions', {
        body: { model: 'claude', tools: [{ type: 'code_interpreter' }, { type: 'function', function: { name: 'f' } }], messages: [user([{ type: 'hologram' }, { type: 'text', text: 'hi' }])] },
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-weir-dropped-tools'], 'code_interpreter');
      assert.equal(r.headers['x-weir-dropped'], "messages[0].content[0] (type 'hologram')");
      assert.deepEqual(mock.requests[0]!.json.tools.map((t: { name: string }) => t.name), ['f']);
    });

    it('a content part without a type', async () => {
      await openai400({ messages: [user([{ text: 'hi' }])] }, /messages\[0\]\.content\[0\]\.type: expected a string/);
    });

    it('an image data URL over 5 MB', async () => {
      await openai400({ messages: [user([{ type: 'image_url', image_url: { url: `data:image/png;base64,${SIX_MB}` } }])] }, /limit is 5 MB/);
    });

    it('an assistant tool call with no tool message answering it', async () => {
      await openai400(
        {
          messages: [
            user('list files'),
            { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'ls', arguments: '{}' } }] },
            user('never mind'),
          ],
        },
        /call_1/,
      );
    });

    it('tool call arguments that are not JSON', async () => {
      await openai400(
        {
          messages: [
            user('x'),
            { role: 'assistant', tool_calls: [{ id: 'call_2', type: 'function', function: { name: 'ls', arguments: '{"path": ' } }] },
            { role: 'tool', tool_call_id: 'call_2', content: 'ok' },
          ],
        },
        /not valid JSON/,
      );
    });
  });

  describe('deep nesting (a value nested 100,000 levels: bounded before translation, never a stack overflow)', () => {
    const N = 100_000;
    /** A JSON Schema with an array nested `levels` deep inside, as raw text (JSON.stringify would overflow the stack itself). */
    const deepSchema = (levels: number) => `{"type":"object","properties":{},"examples":${'['.repeat(levels)}${']'.repeat(levels)}}`;

    /** Sends raw JSON text and asserts a 400 naming the depth limit, in the dialect of `path`, with nothing sent upstream. */
    async function tooDeep(path: string, raw: string, anthropicDialect: boolean): Promise<void> {
      mock.reset();
      const r = await call(gw.url, path, { body: raw });
      assert.equal(r.status, 400, r.text.slice(0, 300));
      if (anthropicDialect) {
        assert.equal(r.json.type, 'error');
        assert.equal(r.json.error.type, 'invalid_request_error');
      } else {
        assert.equal(r.json.error.type, 'invalid_request_error');
        assert.equal(r.json.error.code, '400');
      }
      const message: string = anthropicDialect ? r.json.error.message : r.json.error.message;
      assert.match(message, /nest.* deeper than 256 levels/);
      assert.equal(mock.requests.length, 0, 'nothing reached the upstream');
    }

    it('/v1/messages → OpenAI-dialect deployment', async () => {
      await tooDeep('/v1/messages', `{"model":"gpt","max_tokens":32,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"t","input_schema":${deepSchema(N)}}]}`, true);
      await tooDeep('/v1/messages', `{"model":"gpt","max_tokens":32,"stream":true,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"t","input_schema":${deepSchema(N)}}]}`, true);
      // A short body (under raw-translation's MIN_BODY) takes the ordinary path and its own check.
      await tooDeep('/v1/messages', `{"model":"gpt","max_tokens":32,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"t","input_schema":${deepSchema(300)}}]}`, true);
    });

    it('/v1/chat/completions → Anthropic deployment', async () => {
      await tooDeep('/v1/chat/completions', `{"model":"claude","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"t","parameters":${deepSchema(N)}}}]}`, false);
    });

    it('/v1/responses → chat-only deployment (and on to Anthropic)', async () => {
      for (const model of ['vllm', 'claude']) {
        await tooDeep('/v1/responses', `{"model":"${model}","input":"hi","tools":[{"type":"function","name":"t","parameters":${deepSchema(N)}}]}`, false);
        await tooDeep('/v1/responses', `{"model":"${model}","stream":true,"input":"hi","tools":[{"type":"function","name":"t","parameters":${deepSchema(N)}}]}`, false);
      }
    });

    it('a schema nested as deep as the limit allows is translated', async () => {
      mock.reset();
      // 256 levels in all: the body's own object, tools, the tool, its schema and 252 arrays.
      const r = await call(gw.url, '/v1/messages', { body: `{"model":"gpt","max_tokens":32,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"t","input_schema":${deepSchema(252)}}]}` });
      assert.equal(r.status, 200, r.text);
      assert.equal(mock.requests.length, 1);
    });

    it('count_tokens on a non-Anthropic deployment answers 400, not a stack overflow', async () => {
      const nested = `${'{"type":"tool_result","tool_use_id":"t","content":['.repeat(N)}${']}'.repeat(N)}`;
      const r = await call(gw.url, '/v1/messages/count_tokens', { body: `{"model":"gpt","messages":[{"role":"user","content":[${nested}]}]}` });
      assert.equal(r.status, 400, r.text.slice(0, 300));
      assert.equal(r.json.type, 'error');
      assert.match(r.json.error.message, /deeper than 256 levels/);
    });
  });
});
