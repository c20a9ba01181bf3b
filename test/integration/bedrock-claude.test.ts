// Claude on Bedrock (InvokeModel) and a Converse model through the real gateway process, against
// the fake Bedrock runtime (test/support/fake-bedrock.ts) that checks every signature with the
// SDK's signer, the model path and the body it takes, and answers in Bedrock's framing written a
// few bytes at a time. Both client dialects, stream and not, tools, usage → the spend row, errors
// in the client's dialect, fallbacks, and every kind of credentials LiteLLM's params name.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, parseSse } from '../support/http';
import { freshDatabase, stopTestPostgres } from '../support/postgres';
import { CLAUDE_ID, deployment, ENV_KEYS, HAIKU_ID, LLAMA_ID, MASTER, MASTER_KEYS, PARAM_KEYS, PROFILE_KEYS, ROLE_ARN, startBedrockRig, type BedrockRig } from './bedrock-helpers';
import { dbPool, one, waitForLogs } from './governance-helpers';

const AUTH = { authorization: `Bearer ${MASTER}` };
const ANTHROPIC = { 'x-api-key': MASTER, 'anthropic-version': '2023-06-01' };

const keysParams = (k: { accessKeyId: string; secretAccessKey: string }) => `aws_access_key_id: ${k.accessKeyId}, aws_secret_access_key: "${k.secretAccessKey}"`;

function models(url: string): string {
  const at = `aws_region_name: us-east-1, aws_bedrock_runtime_endpoint: "${url}"`;
  return (
    deployment('claude-bedrock', `model: "bedrock/${CLAUDE_ID}", ${at}, ${keysParams(PARAM_KEYS)}`) +
    deployment('claude-wrong-secret', `model: "bedrock/${CLAUDE_ID}", ${at}, aws_access_key_id: ${PARAM_KEYS.accessKeyId}, aws_secret_access_key: "not-the-secret-at-all"`) +
    deployment('claude-throttled', `model: "bedrock/invoke/${CLAUDE_ID}", ${at}, ${keysParams(PARAM_KEYS)}`) +
    deployment('claude-env', `model: "bedrock/${HAIKU_ID}", ${at}`) +
    deployment('claude-profile', `model: "bedrock/${HAIKU_ID}", ${at}, aws_profile_name: weir-test`) +
    deployment('claude-role', `model: "bedrock/${HAIKU_ID}", ${at}, aws_role_name: "${ROLE_ARN}", aws_session_name: weir-session, ${keysParams(MASTER_KEYS)}`) +
    deployment('llama', `model: "bedrock/converse/${LLAMA_ID}", ${at}, ${keysParams(PARAM_KEYS)}`) +
    deployment('claude-unknown-model', `model: "bedrock/us.anthropic.claude-none-v9:0", ${at}, ${keysParams(PARAM_KEYS)}`) +
    deployment('claude-no-region', `model: "bedrock/${CLAUDE_ID}", ${keysParams(PARAM_KEYS)}`) +
    deployment('"bedrock/*"', `model: "bedrock/*", ${at}, ${keysParams(PARAM_KEYS)}`)
  );
}

const TOOLS_ANTHROPIC = [{ name: 'get_weather', description: 'Weather of a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];
const TOOLS_OPENAI = [{ type: 'function', function: { name: 'get_weather', description: 'Weather of a city', parameters: TOOLS_ANTHROPIC[0]!.input_schema } }];
const WEATHER_CALL = { id: 'toolu_bdrk_weather1', name: 'get_weather', arguments: '{"city":"Paris"}' };

for (const split of [7, 1]) {
  describe(`Claude on Bedrock and a Converse model, answers written ${split} byte(s) at a time`, () => {
    let rig: BedrockRig;
    let db: string;
    before(async () => {
      db = await freshDatabase('bedrock');
      rig = await startBedrockRig({
        models,
        split,
        databaseUrl: db,
        env: { AWS_ACCESS_KEY_ID: ENV_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: ENV_KEYS.secretAccessKey },
        extra: 'router_settings: { num_retries: 0, fallbacks: [{ claude-throttled: [claude-bedrock] }] }\n',
      });
    });
    after(async () => {
      await rig?.close();
      await stopTestPostgres();
    });

    it('Anthropic client, whole answer: the InvokeModel path and body, betas in the body under Bedrock’s names, the rest named as dropped', async () => {
      rig.bedrock.requests.length = 0;
      const r = await call(rig.gw.url, '/v1/messages', {
        headers: { ...ANTHROPIC, 'anthropic-beta': 'claude-code-20250219,context-1m-2025-08-07' },
        body: { model: 'claude-bedrock', max_tokens: 64, metadata: { user_id: 'u1' }, speed: 'fast', messages: [{ role: 'user', content: 'hi' }] },
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.type, 'message');
      assert.equal(r.json.content[0].text, 'Hello from Bedrock');
      const seen = rig.bedrock.requests[0]!;
      assert.equal(seen.path, `/model/${encodeURIComponent(CLAUDE_ID)}/invoke`);
      assert.equal(seen.accessKeyId, PARAM_KEYS.accessKeyId);
      assert.deepEqual(Object.keys(seen.json).sort(), ['anthropic_beta', 'anthropic_version', 'max_tokens', 'messages', 'metadata']);
      assert.equal(seen.json.anthropic_version, 'bedrock-2023-05-31');
      assert.deepEqual(seen.json.anthropic_beta, ['context-1m-2025-08-07']);
      assert.equal(seen.headers['anthropic-beta'], undefined);
      assert.match(r.headers['x-weir-dropped'] ?? '', /speed/);
      assert.match(r.headers['x-weir-dropped'] ?? '', /claude-code-20250219/);
    });

    it('Anthropic client, stream: the event stream comes back as Anthropic SSE, event for event, tools included', async () => {
      rig.bedrock.reply = () => ({ toolCall: WEATHER_CALL });
      try {
        const r = await call(rig.gw.url, '/v1/messages', { headers: ANTHROPIC, body: { model: 'claude-bedrock', max_tokens: 64, stream: true, tools: TOOLS_ANTHROPIC, messages: [{ role: 'user', content: 'weather in Paris?' }] } });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.headers['content-type'], 'text/event-stream');
        const events = parseSse(r.text);
        assert.deepEqual(events.map((e) => e.event), ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
        for (const e of events) assert.equal(JSON.parse(e.data).type, e.event, 'each data line is its event');
        const start = JSON.parse(events[1]!.data);
        assert.deepEqual(start.content_block, { type: 'tool_use', id: WEATHER_CALL.id, name: 'get_weather', input: {} });
        const args = events.filter((e) => e.event === 'content_block_delta').map((e) => JSON.parse(e.data).delta.partial_json).join('');
        assert.equal(args, WEATHER_CALL.arguments);
        assert.equal(JSON.parse(events[7]!.data).delta.stop_reason, 'tool_use');
        assert.equal(rig.bedrock.requests.at(-1)!.path, `/model/${encodeURIComponent(CLAUDE_ID)}/invoke-with-response-stream`);
        assert.equal(rig.bedrock.requests.at(-1)!.json.stream, undefined);
      } finally {
        rig.bedrock.reply = () => ({ text: 'Hello from Bedrock' });
      }
    });

    it('OpenAI client, whole and streamed, with tools: translated to and from Claude on Bedrock', async () => {
      rig.bedrock.reply = () => ({ toolCall: WEATHER_CALL });
      try {
        const whole = await call(rig.gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'claude-bedrock', tools: TOOLS_OPENAI, messages: [{ role: 'user', content: 'weather in Paris?' }] } });
        assert.equal(whole.status, 200, whole.text);
        const msg = whole.json.choices[0].message;
        assert.equal(whole.json.choices[0].finish_reason, 'tool_calls');
        assert.deepEqual([msg.tool_calls[0].id, msg.tool_calls[0].function.name, JSON.parse(msg.tool_calls[0].function.arguments)], [WEATHER_CALL.id, 'get_weather', { city: 'Paris' }]);
        assert.ok(whole.json.usage.prompt_tokens > 0 && whole.json.usage.completion_tokens > 0);
        const streamed = await call(rig.gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'claude-bedrock', stream: true, stream_options: { include_usage: true }, tools: TOOLS_OPENAI, messages: [{ role: 'user', content: 'weather in Paris?' }] } });
        const chunks = parseSse(streamed.text).map((e) => e.data);
        assert.equal(chunks.at(-1), '[DONE]');
        const parsed = chunks.slice(0, -1).map((c) => JSON.parse(c));
        const args = parsed.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).map((t: any) => t.function?.arguments ?? '').join('');
        assert.equal(args, WEATHER_CALL.arguments);
        assert.equal(parsed.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'tool_calls');
        assert.ok(parsed.find((c) => c.usage)?.usage.completion_tokens > 0);
      } finally {
        rig.bedrock.reply = () => ({ text: 'Hello from Bedrock' });
      }
    });

    it('a Converse model: both client dialects, whole and streamed, tools and usage', async () => {
      rig.bedrock.requests.length = 0;
      const a = await call(rig.gw.url, '/v1/messages', { headers: ANTHROPIC, body: { model: 'llama', max_tokens: 32, system: 'be brief', messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(a.status, 200, a.text);
      assert.equal(a.json.content[0].text, 'Hello from Bedrock');
      assert.ok(a.json.usage.input_tokens > 0);
      const seen = rig.bedrock.requests[0]!;
      assert.equal(seen.path, `/model/${encodeURIComponent(LLAMA_ID)}/converse`);
      assert.deepEqual(seen.json, { messages: [{ role: 'user', content: [{ text: 'hi' }] }], system: [{ text: 'be brief' }], inferenceConfig: { maxTokens: 32 } });
      const s = await call(rig.gw.url, '/v1/messages', { headers: ANTHROPIC, body: { model: 'llama', max_tokens: 32, stream: true, messages: [{ role: 'user', content: 'hi' }] } });
      const events = parseSse(s.text);
      assert.deepEqual(events.map((e) => e.event), ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
      assert.equal(events.filter((e) => e.event === 'content_block_delta').map((e) => JSON.parse(e.data).delta.text).join(''), 'Hello from Bedrock');
      assert.ok(JSON.parse(events[5]!.data).usage.input_tokens > 0);
      assert.equal(rig.bedrock.requests[1]!.path, `/model/${encodeURIComponent(LLAMA_ID)}/converse-stream`);

      rig.bedrock.reply = () => ({ toolCall: WEATHER_CALL });
      try {
        const o = await call(rig.gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'llama', stream: true, stream_options: { include_usage: true }, tools: TOOLS_OPENAI, messages: [{ role: 'user', content: 'weather?' }] } });
        const parsed = parseSse(o.text).map((e) => e.data).filter((d) => d !== '[DONE]').map((d) => JSON.parse(d));
        const calls = parsed.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
        assert.equal(calls[0].function.name, 'get_weather');
        assert.equal(calls.map((t: any) => t.function?.arguments ?? '').join(''), WEATHER_CALL.arguments);
        assert.equal(parsed.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'tool_calls');
        assert.ok(parsed.find((c) => c.usage)?.usage.prompt_tokens > 0);
        const toolSpec = rig.bedrock.requests.at(-1)!.json.toolConfig.tools[0].toolSpec;
        assert.deepEqual(toolSpec, { name: 'get_weather', description: 'Weather of a city', inputSchema: { json: TOOLS_ANTHROPIC[0]!.input_schema } });
      } finally {
        rig.bedrock.reply = () => ({ text: 'Hello from Bedrock' });
      }
    });

    it('usage reaches the spend row: priced as the Anthropic model, provider bedrock', async () => {
      const r = await call(rig.gw.url, '/v1/messages', { headers: ANTHROPIC, body: { model: 'claude-bedrock', max_tokens: 16, messages: [{ role: 'user', content: 'spend me' }] } });
      assert.equal(r.status, 200, r.text);
      assert.ok(Number(r.headers['x-litellm-response-cost']) > 0, 'priced');
      const pool = dbPool(db);
      try {
        await waitForLogs(pool, 1, `"request_id" = $1`, [r.json.id]);
        const row = await one(pool, `SELECT "model", "custom_llm_provider", "prompt_tokens", "completion_tokens", "spend" FROM "LiteLLM_SpendLogs" WHERE "request_id" = $1`, [r.json.id]);
        assert.equal(row.custom_llm_provider, 'bedrock');
        assert.equal(row.prompt_tokens, r.json.usage.input_tokens);
        assert.equal(row.completion_tokens, r.json.usage.output_tokens);
        assert.ok(Math.abs(row.spend - Number(r.headers['x-litellm-response-cost'])) < 1e-12);
      } finally {
        await pool.end();
      }
    });

    it('errors come back in the client’s dialect: a wrong secret (403), an unknown model (400), no region (503)', async () => {
      const bad = await call(rig.gw.url, '/v1/messages', { headers: ANTHROPIC, body: { model: 'claude-wrong-secret', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(bad.status, 403, bad.text);
      assert.equal(bad.json.type, 'error');
      assert.equal(bad.json.error.type, 'permission_error');
      assert.match(bad.json.error.message, /BedrockException - The request signature we calculated does not match/);
      assert.ok(!bad.text.includes('not-the-secret-at-all'));
      const badChat = await call(rig.gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'claude-wrong-secret', messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(badChat.status, 403);
      assert.equal(badChat.json.error.code, '403');
      const unknown = await call(rig.gw.url, '/v1/messages', { headers: ANTHROPIC, body: { model: 'claude-unknown-model', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(unknown.status, 400);
      assert.match(unknown.json.error.message, /model identifier is invalid/);
      const noRegion = await call(rig.gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'claude-no-region', messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(noRegion.status, 503);
      assert.match(noRegion.json.error.message, /aws_region_name/);
    });

    it('ThrottlingException: a 429 in the client’s dialect, and the fallback group answers when there is one', async () => {
      rig.bedrock.failures.push({ status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' });
      const t = await call(rig.gw.url, '/v1/messages', { headers: ANTHROPIC, body: { model: 'claude-bedrock', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(t.status, 429, t.text);
      assert.equal(t.json.error.type, 'rate_limit_error');
      assert.match(t.json.error.message, /Too many requests/);
      rig.bedrock.failures.push({ status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' });
      const f = await call(rig.gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'claude-throttled', messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(f.status, 200, f.text);
      assert.equal(f.headers['x-litellm-attempted-fallbacks'], '1');
      assert.equal(f.json.choices[0].message.content, 'Hello from Bedrock');
    });

    it('a throttling exception in the middle of a stream ends it with an error event in the client’s dialect', async () => {
      rig.bedrock.streamException = { afterEvents: 2, type: 'throttlingException', message: 'slow down' };
      try {
        const a = await call(rig.gw.url, '/v1/messages', { headers: ANTHROPIC, body: { model: 'claude-bedrock', max_tokens: 8, stream: true, messages: [{ role: 'user', content: 'hi' }] } });
        const events = parseSse(a.text);
        assert.deepEqual(events.map((e) => e.event), ['message_start', 'content_block_start', 'error']);
        assert.deepEqual(JSON.parse(events[2]!.data).error, { type: 'rate_limit_error', message: 'BedrockException - throttlingException: slow down' });
        const o = await call(rig.gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'claude-bedrock', stream: true, messages: [{ role: 'user', content: 'hi' }] } });
        const last = parseSse(o.text).map((e) => e.data).filter((d) => d !== '[DONE]').at(-1)!;
        assert.match(JSON.parse(last).error.message, /slow down/);
      } finally {
        rig.bedrock.streamException = null;
      }
    });

    it('credentials from the environment, a profile file, and an assumed role each sign the call', async () => {
      for (const [model, key] of [
        ['claude-env', ENV_KEYS.accessKeyId],
        ['claude-profile', PROFILE_KEYS.accessKeyId],
      ] as const) {
        const r = await call(rig.gw.url, '/v1/messages', { headers: ANTHROPIC, body: { model, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } });
        assert.equal(r.status, 200, `${model}: ${r.text}`);
        assert.equal(rig.bedrock.requests.at(-1)!.accessKeyId, key, model);
      }
      assert.equal(rig.bedrock.requests.at(-1)!.headers['x-amz-security-token'], PROFILE_KEYS.sessionToken);
      const role = await call(rig.gw.url, '/v1/messages', { headers: ANTHROPIC, body: { model: 'claude-role', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(role.status, 200, role.text);
      assert.deepEqual(rig.sts.calls.map((c) => [c.roleArn, c.sessionName, c.accessKeyId]), [[ROLE_ARN, 'weir-session', MASTER_KEYS.accessKeyId]], 'one AssumeRole, signed with the master keys');
      assert.match(rig.bedrock.requests.at(-1)!.accessKeyId, /^ASIA/, 'the call is signed with the role’s temporary keys');
      // The role's credentials are cached: a second call makes no second AssumeRole.
      const again = await call(rig.gw.url, '/v1/messages', { headers: ANTHROPIC, body: { model: 'claude-role', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(again.status, 200);
      assert.equal(rig.sts.calls.length, 1);
    });

    it('a bedrock/* wildcard: each name picks its API (Claude through InvokeModel, bedrock/converse/… through Converse) and is priced', async () => {
      rig.bedrock.requests.length = 0;
      const c = await call(rig.gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: `bedrock/${HAIKU_ID}`, messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(c.status, 200, c.text);
      assert.ok(Number(c.headers['x-litellm-response-cost']) > 0, 'priced as the Anthropic model');
      const l = await call(rig.gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: `bedrock/converse/${LLAMA_ID}`, messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(l.status, 200, l.text);
      assert.deepEqual(rig.bedrock.requests.map((r) => r.path), [`/model/${encodeURIComponent(HAIKU_ID)}/invoke`, `/model/${encodeURIComponent(LLAMA_ID)}/converse`]);
    });

    it('count_tokens: Bedrock’s CountTokens for Claude, the local estimate for a Converse model', async () => {
      const c = await call(rig.gw.url, '/v1/messages/count_tokens', { headers: ANTHROPIC, body: { model: 'claude-bedrock', messages: [{ role: 'user', content: 'count me please' }] } });
      assert.equal(c.status, 200, c.text);
      assert.ok(c.json.input_tokens > 0);
      const seen = rig.bedrock.requests.at(-1)!;
      assert.equal(seen.path, `/model/${encodeURIComponent('anthropic.claude-sonnet-4-5-20250929-v1:0')}/count-tokens`);
      const inner = JSON.parse(Buffer.from(seen.json.input.invokeModel.body, 'base64').toString());
      assert.equal(inner.anthropic_version, 'bedrock-2023-05-31');
      assert.equal(inner.model, undefined);
      // A model CountTokens does not serve (the fake knows no such id): the estimate, not an error.
      const before = rig.bedrock.requests.length;
      const u = await call(rig.gw.url, '/v1/messages/count_tokens', { headers: ANTHROPIC, body: { model: 'claude-unknown-model', messages: [{ role: 'user', content: 'count me please' }] } });
      assert.equal(u.status, 200, u.text);
      assert.ok(u.json.input_tokens > 0);
      assert.equal(rig.bedrock.requests.length, before + 1);
      const l = await call(rig.gw.url, '/v1/messages/count_tokens', { headers: ANTHROPIC, body: { model: 'llama', messages: [{ role: 'user', content: 'count me please' }] } });
      assert.equal(l.status, 200);
      assert.ok(l.json.input_tokens > 0);
      assert.equal(rig.bedrock.requests.length, before + 1, 'estimated locally');
    });
  });
}
