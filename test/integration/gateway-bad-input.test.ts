// Every kind of bad input the gateway core handles: each gets a clear error in the endpoint's
// dialect, and none of them disturbs the good requests running beside it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort as deadPort } from '../../src/net/free-port';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { call, parseSse } from '../support/http';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';

const MASTER = 'sk-master-bad-TEST';
const AUTH = { authorization: `Bearer ${MASTER}` };
const ANTH = { 'x-api-key': MASTER };
const UPSTREAM_KEY = 'sk-upstream-key-SECRET-123';

function config(mock: string, dead: number, garbled: string): string {
  return `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-up, api_base: ${mock}/v1, api_key: ${UPSTREAM_KEY}, timeout: 1 }
    model_info: { id: dep-gpt }
  - model_name: claude
    litellm_params: { model: anthropic/claude-up, api_base: ${mock}, api_key: ${UPSTREAM_KEY}, timeout: 1 }
    model_info: { id: dep-claude }
  - model_name: gpt-patient
    litellm_params: { model: openai/gpt-up, api_base: ${mock}/v1, api_key: ${UPSTREAM_KEY}, timeout: 30 }
  - model_name: dead
    litellm_params: { model: openai/dead-up, api_base: http://127.0.0.1:${dead}/v1, api_key: ${UPSTREAM_KEY} }
    model_info: { id: dep-dead }
  - model_name: garbled
    litellm_params: { model: openai/garbled-up, api_base: ${garbled}/v1, api_key: ${UPSTREAM_KEY} }
    model_info: { id: dep-garbled }
general_settings:
  master_key: ${MASTER}
  max_request_size_mb: 0.01
router_settings:
  num_retries: 2
`;
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

/** An upstream whose answers cannot be framed: a content-length that is not a number. */
function garbledUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('data', () => s.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: twelve\r\n\r\n{}'));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
        close: () => new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
      }),
    ),
  );
}

/** Opens a streaming request and hands back the raw response without reading it. */
function openStream(url: string, path: string, headers: Record<string, string>, body: object): Promise<{ res: http.IncomingMessage; req: http.ClientRequest }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url + path, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...headers } }, (res) => resolve({ res, req }));
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

for (const engine of ['uws', 'node']) {
  describe(`bad input (${engine})`, () => {
    let mock: MockUpstream;
    let gw: GatewayProcess;
    let garbled: { url: string; close(): Promise<void> };

    before(async () => {
      mock = await startMockUpstream();
      garbled = await garbledUpstream();
      gw = await startGateway({ config: config(mock.url, await deadPort(), garbled.url), engine });
    });
    after(async () => {
      await gw?.stop();
      await mock?.close();
      await garbled?.close();
    });

    it('malformed JSON → 400 in each dialect', async () => {
      const c = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: '{"model": "gpt", "messages": [' });
      assert.equal(c.status, 400);
      assert.match(c.json.error.message, /not valid JSON/);
      assert.equal(c.json.error.code, '400');
      const m = await call(gw.url, '/v1/messages', { headers: ANTH, body: '{"model": "claude" "messages": []}' });
      assert.equal(m.status, 400);
      assert.equal(m.json.type, 'error');
      assert.equal(m.json.error.type, 'invalid_request_error');
      assert.match(m.json.error.message, /not valid JSON/);
      const garbage = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: 'model=gpt' });
      assert.equal(garbage.status, 400);
    });

    it('a body that is not an object → 400', async () => {
      for (const body of ['[1,2]', '"gpt"', '42', 'null', '']) {
        const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body });
        assert.equal(r.status, 400, body);
        assert.match(r.json.error.message, /JSON object|empty/, body);
      }
    });

    it('missing or non-string model → 400 naming the parameter', async () => {
      const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { messages: [] } });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.param, 'model');
      assert.match(r.json.error.message, /model/);
      const n = await call(gw.url, '/v1/messages', { headers: ANTH, body: { model: 7, messages: [] } });
      assert.equal(n.status, 400);
      assert.match(n.json.error.message, /"model" must be a string/);
    });

    it('unknown model → 400 with the model name', async () => {
      const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'gpt-99-ultra', messages: [] } });
      assert.equal(r.status, 400);
      assert.match(r.json.error.message, /Invalid model name passed in model=gpt-99-ultra/);
    });

    it('a body over max_request_size_mb → 413, and the gateway keeps serving', async () => {
      const big = { model: 'gpt', messages: [{ role: 'user', content: 'x'.repeat(20_000) }] };
      const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: big });
      assert.equal(r.status, 413);
      assert.match(r.json.error.message, /max_request_size_mb/);
      const a = await call(gw.url, '/v1/messages', { headers: ANTH, body: { ...big, model: 'claude' } });
      assert.equal(a.status, 413);
      assert.equal(a.json.error.type, 'request_too_large');
      const ok = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'gpt', messages: [] } });
      assert.equal(ok.status, 200);
    });

    it('a chunked body over the limit (no content-length) → 413', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${gw.url}/v1/chat/completions`, { method: 'POST', agent: false, headers: { ...AUTH, 'content-type': 'application/json' } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.write('{"model":"gpt","messages":[{"role":"user","content":"');
        req.write('y'.repeat(30_000));
        req.end('"}]}');
      });
      assert.equal(status, 413);
    });

    it('upstream refused → 502 naming the deployment, never its key', async () => {
      const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'dead', messages: [] } });
      assert.equal(r.status, 502);
      assert.match(r.json.error.message, /dep-dead/);
      assert.match(r.json.error.message, /ECONNREFUSED/);
      assert.doesNotMatch(r.text, /SECRET/);
      assert.equal(r.headers['x-litellm-attempted-retries'], '2');
    });

    it('an upstream answer that cannot be framed → 502 naming the deployment and what was wrong, in each dialect', async () => {
      const c = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'garbled', messages: [] } });
      assert.equal(c.status, 502);
      assert.match(c.json.error.message, /dep-garbled/);
      assert.match(c.json.error.message, /bad content-length/);
      assert.doesNotMatch(c.text, /SECRET/);
      const m = await call(gw.url, '/v1/messages', { headers: ANTH, body: { model: 'garbled', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(m.status, 502);
      assert.equal(m.json.type, 'error');
      assert.match(m.json.error.message, /bad content-length/);
    });

    it('upstream timed out → 408 after the configured timeout', async () => {
      const t0 = Date.now();
      const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'gpt', messages: [], mock_behavior: { hang: true } } });
      assert.equal(r.status, 408);
      assert.match(r.json.error.message, /dep-gpt/);
      assert.ok(Date.now() - t0 >= 1000, 'waited for the timeout');
      const a = await call(gw.url, '/v1/messages', { headers: ANTH, body: { model: 'claude', messages: [], mock_behavior: { hang: true } } });
      assert.equal(a.status, 408);
      assert.equal(a.json.error.type, 'timeout_error');
      // A token count is bound by the same timeout, and answered the same way.
      const n = await call(gw.url, '/v1/messages/count_tokens', { headers: ANTH, body: { model: 'claude', messages: [], mock_behavior: { hang: true } } });
      assert.equal(n.status, 408, n.text);
      assert.equal(n.json.type, 'error');
      assert.equal(n.json.error.type, 'timeout_error');
      assert.match(n.json.error.message, /no answer within 1 s/);
    });

    it('a token count whose upstream connection is reset → 502 naming the deployment, in the Anthropic dialect', async () => {
      const r = await call(gw.url, '/v1/messages/count_tokens', { headers: ANTH, body: { model: 'claude', messages: [], mock_behavior: { reset: true } } });
      assert.equal(r.status, 502, r.text);
      assert.equal(r.json.type, 'error');
      assert.match(r.json.error.message, /dep-claude/);
      assert.doesNotMatch(r.text, /SECRET/);
    });

    it('upstream 5xx after retries → the upstream status, all attempts made', async () => {
      mock.reset();
      const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'gpt', messages: [], mock_behavior: { status: 503, errorMessage: 'overloaded' } } });
      assert.equal(r.status, 503);
      assert.match(r.json.error.message, /overloaded/);
      assert.match(r.json.error.message, /dep-gpt/);
      assert.equal(mock.requests.length, 3, 'one try and num_retries: 2');
      assert.equal(r.headers['x-litellm-attempted-retries'], '2');
    });

    it('upstream 429 after retries → 429 with retry-after, in the Anthropic dialect too', async () => {
      mock.reset();
      const r = await call(gw.url, '/v1/messages', {
        headers: ANTH,
        body: { model: 'claude', messages: [], mock_behavior: { status: 429, headers: { 'retry-after': '0.05' } } },
      });
      assert.equal(r.status, 429);
      assert.equal(r.json.error.type, 'rate_limit_error');
      assert.equal(r.headers['retry-after'], '0.05');
      assert.equal(mock.requests.length, 3);
    });

    it('a 400 from the upstream is not retried', async () => {
      mock.reset();
      const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'gpt', messages: [], mock_behavior: { status: 400, errorMessage: 'bad messages' } } });
      assert.equal(r.status, 400);
      assert.match(r.json.error.message, /bad messages/);
      assert.equal(mock.requests.length, 1);
    });

    it('an upstream error that echoes the key does not leak it', async () => {
      const r = await call(gw.url, '/v1/chat/completions', {
        headers: AUTH,
        body: { model: 'gpt', messages: [], mock_behavior: { status: 401, errorMessage: `Incorrect API key provided: ${UPSTREAM_KEY}` } },
      });
      assert.equal(r.status, 401);
      assert.match(r.json.error.message, /Incorrect API key provided: \[redacted\]/);
      assert.doesNotMatch(r.text, /SECRET/);
    });

    it('an upstream that dies mid-stream ends the client stream with an error event', async () => {
      const c = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'gpt', stream: true, messages: [], mock_behavior: { deltas: 10, dropAfterDeltas: 3 } } });
      assert.equal(c.status, 200);
      const events = parseSse(c.text);
      assert.equal(events.filter((e) => e.data.includes('"content":"tok')).length, 3);
      const last = JSON.parse(events.at(-1)!.data);
      assert.equal(last.error.code, '502');
      assert.match(last.error.message, /dep-gpt/);
      const a = await call(gw.url, '/v1/messages', { headers: ANTH, body: { model: 'claude', stream: true, messages: [], mock_behavior: { deltas: 10, dropAfterDeltas: 2 } } });
      const ev = parseSse(a.text);
      assert.equal(ev.at(-1)!.event, 'error');
      assert.equal(JSON.parse(ev.at(-1)!.data).type, 'error');
      assert.equal(ev.filter((e) => e.event === 'content_block_delta').length, 2);
    });

    it('a client that disconnects mid-stream aborts the upstream call; the worker keeps serving', async () => {
      mock.reset();
      const { res, req } = await openStream(gw.url, '/v1/chat/completions', AUTH, { model: 'gpt', stream: true, messages: [], mock_behavior: { deltas: 200, paceMs: 20 } });
      await new Promise<void>((r) => res.once('data', () => r()));
      assert.equal(mock.activeRequests(), 1);
      req.destroy();
      const deadline = Date.now() + 3000;
      while (mock.activeRequests() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(mock.activeRequests(), 0, 'upstream request was aborted');
      const ok = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'gpt', messages: [] } });
      assert.equal(ok.status, 200);
    });

    it('a slow client does not make the gateway buffer the stream (memory stays bounded)', async () => {
      // ~54 MB of events; the client reads nothing for a while, then everything.
      const deltas = 300_000;
      const before = rssKb(gw.proc.pid!);
      const { res } = await openStream(gw.url, '/v1/chat/completions', AUTH, { model: 'gpt-patient', stream: true, messages: [], mock_behavior: { deltas } });
      res.pause();
      await new Promise((r) => setTimeout(r, 1500));
      const during = rssKb(gw.proc.pid!);
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.resume();
      await new Promise((r) => res.on('end', r));
      const got = text.split('"content":"tok').length - 1;
      assert.equal(got, deltas, 'every frame arrived once the client read');
      assert.ok(during - before < 30_000, `gateway RSS grew by ${during - before} kB while the client was not reading`);
    });

    it('a burst of bad requests does not disturb concurrent good ones', async () => {
      const bad: Promise<unknown>[] = [];
      for (let i = 0; i < 40; i++) {
        const kind = i % 5;
        if (kind === 0) bad.push(call(gw.url, '/v1/chat/completions', { headers: AUTH, body: '{"model":' }));
        if (kind === 1) bad.push(call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'nope', messages: [] } }));
        if (kind === 2) bad.push(call(gw.url, '/v1/chat/completions', { headers: { authorization: 'Bearer wrong' }, body: { model: 'gpt' } }));
        if (kind === 3) bad.push(call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'gpt', messages: [{ content: 'z'.repeat(20_000) }] } }));
        if (kind === 4) {
          bad.push(
            openStream(gw.url, '/v1/chat/completions', AUTH, { model: 'gpt', stream: true, messages: [], mock_behavior: { deltas: 100, paceMs: 5 } }).then(({ req }) => req.destroy()),
          );
        }
      }
      const good = Array.from({ length: 40 }, (_, i) =>
        call(gw.url, i % 2 ? '/v1/chat/completions' : '/v1/messages', {
          headers: i % 2 ? AUTH : ANTH,
          body: { model: i % 2 ? 'gpt' : 'claude', stream: i % 4 < 2, messages: [] },
        }),
      );
      const results = await Promise.all(good);
      await Promise.allSettled(bad);
      for (const r of results) assert.equal(r.status, 200, r.text);
    });
  });
}
