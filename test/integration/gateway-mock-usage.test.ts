// The built-in mock sends a chat stream's usage chunk only when the client asked for it
// (`stream_options.include_usage: true`), also when the gateway has no database and so does not
// account for the call itself. The question is asked of the client's body: the body sent on has
// its model value replaced (longer or shorter), and the offsets the body scan recorded are those
// of the client's body.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { call, parseSse } from '../support/http';

const MASTER = 'sk-master-mock-usage-TEST';
const AUTH = { authorization: `Bearer ${MASTER}` };

const CONFIG = `
model_list:
  - model_name: m
    litellm_params: { model: mock/a-much-longer-upstream-model-name-than-the-one-asked-for }
  - model_name: a-long-model-name-that-the-client-asks-for-by-name
    litellm_params: { model: mock/x }
general_settings:
  master_key: ${MASTER}
`;

describe('mock usage chunk without a database', () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = await startGateway({ config: CONFIG });
  });
  after(async () => {
    await gw?.stop();
  });

  async function usageChunks(model: string, streamOptions: string): Promise<number> {
    // stream_options after the model, where a change of the model's length moves it.
    const body = `{"model":${JSON.stringify(model)},"stream":true${streamOptions},"messages":[{"role":"user","content":"hi"}]}`;
    const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body });
    assert.equal(r.status, 200, r.text);
    return parseSse(r.text).filter((e) => e.data !== '[DONE]' && (JSON.parse(e.data) as { usage?: unknown }).usage).length;
  }

  for (const model of ['m', 'a-long-model-name-that-the-client-asks-for-by-name']) {
    it(`asked for: one usage chunk (${model.length} characters asked for)`, async () => {
      assert.equal(await usageChunks(model, ',"stream_options":{"include_usage":true}'), 1);
      assert.equal(await usageChunks(model, ',"stream_options":{"other":1,"include_usage":true}'), 1);
    });
    it(`not asked for: none (${model.length} characters asked for)`, async () => {
      assert.equal(await usageChunks(model, ''), 0);
      assert.equal(await usageChunks(model, ',"stream_options":{"include_usage":false}'), 0);
      assert.equal(await usageChunks(model, ',"stream_options":{}'), 0);
      assert.equal(await usageChunks(model, ',"stream_options":null'), 0);
    });
  }
});
