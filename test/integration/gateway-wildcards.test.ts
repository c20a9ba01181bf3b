// Wildcard deployments (`anthropic/*`, a catch-all `*`, any pattern) forward the name the client
// asked for, and client-sent `fallbacks` / `disable_fallbacks` steer one request's fallback chain
// without ever reaching the upstream. Real gateway process, real HTTP to a mock upstream.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort as deadPort } from '../../src/net/free-port';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { call } from '../support/http';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';

describe('wildcard deployments and client fallbacks', () => {
  let up: MockUpstream;
  let gw: GatewayProcess;

  before(async () => {
    up = await startMockUpstream();
    const dead = await deadPort();
    gw = await startGateway({
      config: `
model_list:
  - model_name: "anthropic/*"
    litellm_params: { model: "anthropic/*", api_base: ${up.url}, api_key: sk-ant-up }
  - model_name: "team-a/*"
    litellm_params: { model: "openai/*", api_base: ${up.url}/v1, api_key: k }
  - model_name: "*"
    litellm_params: { model: "*" }
  - model_name: exact
    litellm_params: { model: openai/exact-up, api_base: ${up.url}/v1, api_key: k }
    model_info: { id: exact-dep }
  - model_name: "team-a/pinned"
    litellm_params: { model: openai/pinned-up, api_base: ${up.url}/v1, api_key: k }
  - model_name: broken
    litellm_params: { model: openai/x, api_base: http://127.0.0.1:${dead}/v1, api_key: k }
environment_variables:
  OPENAI_API_KEY: sk-env-openai
  OPENAI_API_BASE: ${up.url}/v1
  ANTHROPIC_API_KEY: sk-env-ant
  ANTHROPIC_API_BASE: ${up.url}
router_settings:
  num_retries: 0
  fallbacks: [{ "team-a/*": [exact] }, { broken: [exact] }]
`,
    });
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  const chat = (model: string, extra: object = {}) =>
    call(gw.url, '/v1/chat/completions', { body: { model, messages: [{ role: 'user', content: 'hi' }], ...extra } });

  describe('wildcards', () => {
    it('anthropic/* forwards the rest of the requested name to the Anthropic deployment', async () => {
      up.reset();
      const r = await call(gw.url, '/v1/messages', { body: { model: 'anthropic/claude-sonnet-9', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(r.status, 200, r.text);
      const seen = up.requests.at(-1)!;
      assert.equal(seen.path, '/v1/messages');
      assert.equal(seen.json.model, 'claude-sonnet-9');
      assert.equal(seen.headers['x-api-key'], 'sk-ant-up');
      assert.equal(r.headers['x-litellm-model-group'], 'anthropic/claude-sonnet-9');
    });

    it('a pattern may map onto another provider: team-a/* → openai/*', async () => {
      up.reset();
      const r = await chat('team-a/gpt-4.1-mini');
      assert.equal(r.status, 200, r.text);
      assert.equal(up.requests.at(-1)!.path, '/v1/chat/completions');
      assert.equal(up.requests.at(-1)!.json.model, 'gpt-4.1-mini');
    });

    it('an exact model_name wins over a pattern that also matches', async () => {
      up.reset();
      const r = await chat('team-a/pinned');
      assert.equal(r.status, 200, r.text);
      assert.equal(up.requests.at(-1)!.json.model, 'pinned-up');
    });

    it('the catch-all * infers the provider from the name and uses its env credentials', async () => {
      up.reset();
      const o = await chat('gpt-4o-mini');
      assert.equal(o.status, 200, o.text);
      assert.equal(up.requests.at(-1)!.json.model, 'gpt-4o-mini');
      assert.equal(up.requests.at(-1)!.headers.authorization, 'Bearer sk-env-openai');
      // A Claude name reaches the Anthropic API, translated from the chat request.
      const a = await chat('claude-haiku-9');
      assert.equal(a.status, 200, a.text);
      assert.equal(a.json.object, 'chat.completion');
      assert.equal(up.requests.at(-1)!.path, '/v1/messages');
      assert.equal(up.requests.at(-1)!.json.model, 'claude-haiku-9');
      assert.equal(up.requests.at(-1)!.headers['x-api-key'], 'sk-env-ant');
    });

    it('a name whose provider cannot be told matches no route: 400 naming it', async () => {
      const r = await chat('llama-3-70b');
      assert.equal(r.status, 400);
      assert.match(r.json.error.message, /Invalid model name passed in model=llama-3-70b/);
    });

    it('a configured fallback keyed by the pattern serves every name it matches', async () => {
      up.reset();
      up.enqueue({ status: 500 });
      const r = await chat('team-a/gpt-4.1');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-litellm-model-id'], 'exact-dep');
      assert.equal(r.headers['x-litellm-attempted-fallbacks'], '1');
    });

    it('the start lines name each wildcard route and its template', () => {
      assert.match(gw.output(), /anthropic\/\* → anthropic\/\* \(wildcard\)/);
      assert.match(gw.output(), /team-a\/\* → openai\/\* \(wildcard\)/);
    });

    it('/v1/models lists the patterns as they are configured', async () => {
      const r = await call(gw.url, '/v1/models', { method: 'GET' });
      const ids = r.json.data.map((m: { id: string }) => m.id);
      assert.ok(ids.includes('anthropic/*') && ids.includes('*') && ids.includes('exact'), ids.join(','));
    });
  });

  describe('client fallbacks', () => {
    it('fallbacks in the body replace the configured chain and never reach the upstream', async () => {
      up.reset();
      const r = await chat('broken', { fallbacks: ['team-a/from-client'], temperature: 0.5 });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-litellm-attempted-fallbacks'], '1');
      const seen = up.requests.at(-1)!;
      assert.equal(seen.json.model, 'from-client');
      assert.equal(seen.json.fallbacks, undefined);
      assert.equal(seen.json.temperature, 0.5);
      assert.deepEqual(seen.json.messages, [{ role: 'user', content: 'hi' }]);
    });

    it("LiteLLM's {\"model\": …} form is accepted", async () => {
      up.reset();
      const r = await chat('broken', { fallbacks: [{ model: 'exact' }] });
      assert.equal(r.status, 200, r.text);
      assert.equal(up.requests.at(-1)!.json.model, 'exact-up');
    });

    it('disable_fallbacks: true turns the configured chain off for this request', async () => {
      up.reset();
      const r = await chat('broken', { disable_fallbacks: true });
      assert.equal(r.status, 502, r.text);
      assert.equal(r.headers['x-litellm-attempted-fallbacks'], '0');
      assert.equal(up.requests.length, 0);
    });

    it('fallbacks on /v1/messages are taken out of the body too', async () => {
      up.reset();
      const r = await call(gw.url, '/v1/messages', { body: { model: 'anthropic/claude-a', fallbacks: ['anthropic/claude-b'], max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(r.status, 200, r.text);
      assert.equal(up.requests.at(-1)!.json.fallbacks, undefined);
      assert.equal(up.requests.at(-1)!.json.model, 'claude-a');
    });

    it('bad fallbacks are a 400 in the client dialect', async () => {
      const unknown = await chat('exact', { fallbacks: ['no-such-model'] });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.json.error.param, 'fallbacks');
      assert.match(unknown.json.error.message, /no-such-model/);
      const notList = await chat('exact', { fallbacks: 'exact' });
      assert.equal(notList.status, 400);
      assert.match(notList.json.error.message, /expected a list/);
      const badEntry = await call(gw.url, '/v1/messages', { body: { model: 'exact', fallbacks: [42], max_tokens: 8, messages: [] } });
      assert.equal(badEntry.status, 400);
      assert.equal(badEntry.json.type, 'error');
      assert.match(badEntry.json.error.message, /fallbacks\[0\]/);
      const badFlag = await chat('exact', { disable_fallbacks: 'yes' });
      assert.equal(badFlag.status, 400);
    });
  });
});
