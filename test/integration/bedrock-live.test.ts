// Claude on the real Bedrock, through the gateway process: run only when real AWS credentials and a
// region are in the environment (AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, and
// AWS_REGION), and skipped with the reason printed otherwise. WEIR_LIVE_BEDROCK_MODEL picks the
// model (default: Claude Haiku 4.5's US inference profile). These are the only tests that leave
// loopback, and only when those variables say the machine may.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { call, parseSse } from '../support/http';

const env = process.env;
const hasCredentials = Boolean((env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) || env.AWS_PROFILE);
const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
const model = env.WEIR_LIVE_BEDROCK_MODEL ?? 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const skip = !hasCredentials ? 'no real AWS credentials in the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)' : !region ? 'no AWS_REGION in the environment' : null;
const MASTER = 'sk-bedrock-live-master';

describe('live: Claude on the real Bedrock', () => {
  let gw: GatewayProcess | undefined;
  before(async () => {
    if (skip) return;
    gw = await startGateway({
      workers: 1,
      config: `model_list:\n  - model_name: live-claude\n    litellm_params: { model: "bedrock/${model}", aws_region_name: ${region} }\ngeneral_settings: { master_key: ${MASTER} }\nrouter_settings: { num_retries: 0 }\n`,
    });
  });
  after(async () => {
    await gw?.stop();
  });

  it('an Anthropic client, streamed, and an OpenAI client, whole', async (t) => {
    if (skip) return t.skip(skip);
    const s = await call(gw!.url, '/v1/messages', { headers: { 'x-api-key': MASTER }, body: { model: 'live-claude', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'Say OK.' }] } });
    assert.equal(s.status, 200, s.text);
    const events = parseSse(s.text).map((e) => e.event);
    assert.equal(events[0], 'message_start');
    assert.equal(events.at(-1), 'message_stop');
    const o = await call(gw!.url, '/v1/chat/completions', { headers: { authorization: `Bearer ${MASTER}` }, body: { model: 'live-claude', max_tokens: 16, messages: [{ role: 'user', content: 'Say OK.' }] } });
    assert.equal(o.status, 200, o.text);
    assert.ok(o.json.usage.prompt_tokens > 0);
  });

  it('count_tokens through Bedrock’s CountTokens (or the estimate where the model has none)', async (t) => {
    if (skip) return t.skip(skip);
    const c = await call(gw!.url, '/v1/messages/count_tokens', { headers: { 'x-api-key': MASTER }, body: { model: 'live-claude', messages: [{ role: 'user', content: 'Count these words please.' }] } });
    assert.equal(c.status, 200, c.text);
    assert.ok(c.json.input_tokens > 0);
  });
});
