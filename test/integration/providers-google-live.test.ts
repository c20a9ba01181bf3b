// The Google providers against the real services, when real credentials are in the environment
// (they reach the Internet, unlike every other test): GEMINI_API_KEY for AI Studio;
// GOOGLE_APPLICATION_CREDENTIALS (a service account file) with VERTEXAI_PROJECT for Vertex AI
// (WEIR_LIVE_VERTEX_CLAUDE names a Claude model enabled in that project, default
// claude-sonnet-4-5@20250929; VERTEXAI_LOCATION defaults to us-east5). Without them each test is
// skipped with the reason printed. WEIR_LIVE=0 skips them all.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { call } from '../support/http';

const MASTER = 'sk-live-google-master';
const live = process.env.WEIR_LIVE !== '0';
const studioKey = process.env.GEMINI_API_KEY;
const vertexReady = Boolean(process.env.GOOGLE_APPLICATION_CREDENTIALS && process.env.VERTEXAI_PROJECT);
const why = (what: string) => (live ? `no ${what} in the environment` : 'WEIR_LIVE=0');

let gw: GatewayProcess | undefined;

before(async () => {
  if (!live || (!studioKey && !vertexReady)) return;
  const location = process.env.VERTEXAI_LOCATION ?? 'us-east5';
  const claude = process.env.WEIR_LIVE_VERTEX_CLAUDE ?? 'claude-sonnet-4-5@20250929';
  gw = await startGateway({
    workers: 1,
    config: `model_list:
  - model_name: live-gemini
    litellm_params: { model: gemini/gemini-2.5-flash }
  - model_name: live-vertex-claude
    litellm_params: { model: vertex_ai/${claude}, vertex_location: ${location} }
  - model_name: live-vertex-gemini
    litellm_params: { model: vertex_ai/gemini-2.5-flash, vertex_location: ${location === 'us-east5' ? 'us-central1' : location} }
general_settings: { master_key: ${MASTER} }
`,
  });
});

after(async () => {
  await gw?.stop();
});

const ask = (path: string, model: string) =>
  call(gw!.url, path, {
    headers: { authorization: `Bearer ${MASTER}`, 'anthropic-version': '2023-06-01' },
    body: { model, max_tokens: 256, messages: [{ role: 'user', content: 'Answer with the single word: pong' }] },
  });

describe('live Google (real credentials only)', () => {
  test('AI Studio: chat and messages', { skip: live && studioKey ? false : why('GEMINI_API_KEY') }, async () => {
    const c = await ask('/v1/chat/completions', 'live-gemini');
    assert.equal(c.status, 200, c.text);
    assert.match(c.json.choices[0].message.content, /pong/i);
    const m = await ask('/v1/messages', 'live-gemini');
    assert.equal(m.status, 200, m.text);
    assert.ok(m.json.usage.output_tokens > 0);
  });

  test('Vertex AI: Claude and Gemini', { skip: live && vertexReady ? false : why('GOOGLE_APPLICATION_CREDENTIALS and VERTEXAI_PROJECT') }, async () => {
    const c = await ask('/v1/messages', 'live-vertex-claude');
    assert.equal(c.status, 200, c.text);
    assert.match(c.json.content[0].text, /pong/i);
    const g = await ask('/v1/chat/completions', 'live-vertex-gemini');
    assert.equal(g.status, 200, g.text);
    assert.match(g.json.choices[0].message.content, /pong/i);
  });
});
