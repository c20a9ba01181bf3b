// Large bodies through the gateway in reused buffers (src/server/large-buffers.ts): the client's
// body collected into a worker's buffer and forwarded as it is, and the translation cache's
// upstream body, each given back for the next request only once undici is proved done writing
// it. Many Claude-Code-sized bodies of distinct bytes (each its own seed) go at once through one
// worker, passed through and translated, streamed and not, to a mock that reads each body a chunk
// per turn (so Weir's writes stay in flight); it keeps every body it received,
// and each must be, byte for byte, one that was sent (the client's, or its uncached translation).
// A buffer reused too early would mix two bodies' bytes.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { claudeCodeBody, claudeCodeSession } from '../../native-bench/bodies';
import { anthropicToOpenAIChatRaw, TOO_DEEP } from '../../src/gateway/raw-translation';
import { MAX_JSON_DEPTH } from '../../src/gateway/json-depth';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { call } from '../support/http';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';

const sha = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');

describe('large bodies in reused buffers', () => {
  let mock: MockUpstream;
  let gw: GatewayProcess;

  before(async () => {
    mock = await startMockUpstream({ slowRead: true });
    // The deployments' upstream models are the names asked for: the client's body goes as it is.
    gw = await startGateway({
      workers: 1,
      config: `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt, api_base: ${mock.url}/v1, api_key: sk-up }
  - model_name: claude
    litellm_params: { model: anthropic/claude, api_base: ${mock.url}, api_key: sk-ant-up }
`,
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });

  it('every body reaches the upstream whole, with many in flight at once', async () => {
    mock.reset();
    const passed = new Map<string, number>();
    const translated = new Map<string, number>();
    const add = (m: Map<string, number>, h: string) => m.set(h, (m.get(h) ?? 0) + 1);
    const lane = async (l: number): Promise<void> => {
      for (let k = 0; k < 8; k++) {
        const model = (l + k) % 2 === 0 ? 'claude' : 'gpt';
        const stream = (l + (k >> 1)) % 2 === 0;
        const body = { ...(claudeCodeBody({ stream, seed: 1 + l * 100 + k, targetBytes: 140_000 + ((l * 31 + k * 17) % 60) * 1000 }) as object), model };
        const raw = Buffer.from(JSON.stringify(body));
        if (model === 'claude') add(passed, sha(raw));
        else {
          const t = anthropicToOpenAIChatRaw(raw, { model: 'gpt' }, MAX_JSON_DEPTH);
          assert.ok(t !== null && t !== TOO_DEEP);
          add(translated, sha(t.body));
        }
        const r = await call(gw.url, '/v1/messages', { body: raw, headers: { 'anthropic-version': '2023-06-01' } });
        assert.equal(r.status, 200, r.text);
      }
    };
    await Promise.all(Array.from({ length: 12 }, (_, l) => lane(l)));
    assert.equal(mock.requests.length, 96);
    for (const seen of mock.requests) {
      const m = seen.path === '/v1/messages' ? passed : translated;
      const h = sha(seen.body);
      const left = m.get(h) ?? 0;
      assert.ok(left > 0, `a body the mock received on ${seen.path} (${seen.body.length} bytes) is none that was sent`);
      m.set(h, left - 1);
    }
  });

  it("a Claude Code session, its history found in the worker's known values: each call arrives whole, and one that repeats the history and then breaks is refused", async () => {
    // The same key's calls, each a turn longer (src/gateway/known-values.ts finds what they repeat).
    for (const model of ['claude', 'gpt']) {
      mock.reset();
      const calls = claudeCodeSession({ ...(claudeCodeBody({ seed: 77 }) as object), model }, 6);
      for (const raw of calls) {
        const r = await call(gw.url, '/v1/messages', { body: raw, headers: { 'anthropic-version': '2023-06-01' } });
        assert.equal(r.status, 200, r.text);
      }
      const expected = calls.map((raw) => {
        if (model === 'claude') return raw;
        const t = anthropicToOpenAIChatRaw(raw, { model: 'gpt' }, MAX_JSON_DEPTH);
        assert.ok(t !== null && t !== TOO_DEEP);
        return Buffer.isBuffer(t.body) ? t.body : Buffer.concat(t.body as Buffer[]);
      });
      assert.deepEqual(mock.requests.map((x) => sha(x.body)), expected.map(sha), `${model}: what the mock received is what each call sent`);
      // The last call's history again, its last message cut short: the same refusal as a fresh scan gives.
      const last = calls[calls.length - 1]!;
      const broken = Buffer.concat([last.subarray(0, last.lastIndexOf('"role"')), Buffer.from('"role":"user","content":[}]}')]);
      const r = await call(gw.url, '/v1/messages', { body: broken, headers: { 'anthropic-version': '2023-06-01' } });
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, /not valid JSON/);
      assert.equal(mock.requests.length, calls.length, `${model}: the broken call never reached the upstream`);
    }
  });
});
