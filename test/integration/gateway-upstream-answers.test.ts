// Upstream answers the gateway must not trust: compressed although identity was asked for,
// response headers that echo the operator's key, a non-streamed answer of unbounded size, a
// count_tokens call whose client leaves. Served by a small upstream that misbehaves on purpose.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import {
  UPSTREAM_KEY, adminOk, chat, closeAndCheckLedgers, governanceConfig, ledgerDatabase, startMock, startWeirOn, streamCall, sseJson, writeConfigFile, waitFor, type Weir,
} from './governance-helpers';
import type { MockUpstream } from '../support/mock-upstream';

let mock: MockUpstream;
let weir: Weir;
let odd: http.Server;
let oddUrl = '';
/** count_tokens requests the odd upstream has seen, and how many of them closed before an answer. */
let countTokensSeen = 0;
let countTokensClosed = 0;

const completion = (content: string) =>
  JSON.stringify({ id: 'chatcmpl-odd', object: 'chat.completion', created: 1, model: 'odd', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } });

function serveOdd(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
  const json = JSON.parse(body || '{}');
  const mode = String(json.model ?? '');
  if (req.url?.endsWith('/count_tokens')) {
    countTokensSeen++;
    res.on('close', () => {
      if (!res.writableFinished) countTokensClosed++;
    });
    return; // never answers
  }
  if (mode === 'gzip') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    return void res.end(zlib.gzipSync(completion('decoded fine')));
  }
  if (mode === 'gzip-stream') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
    const gz = zlib.createGzip();
    gz.pipe(res);
    gz.write(`data: ${JSON.stringify({ id: 'chatcmpl-gz', object: 'chat.completion.chunk', created: 1, model: 'odd', choices: [{ index: 0, delta: { role: 'assistant', content: 'streamed' }, finish_reason: null }] })}\n\n`);
    gz.write(`data: ${JSON.stringify({ id: 'chatcmpl-gz', object: 'chat.completion.chunk', created: 1, model: 'odd', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
    gz.write(`data: ${JSON.stringify({ id: 'chatcmpl-gz', object: 'chat.completion.chunk', created: 1, model: 'odd', choices: [], usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 } })}\n\n`);
    gz.end('data: [DONE]\n\n');
    return;
  }
  if (mode === 'echo-auth') {
    // An upstream (or a proxy before it) that echoes the credentials it was sent.
    res.writeHead(200, { 'content-type': 'application/json', authorization: String(req.headers.authorization), 'set-cookie': 'sid=1', 'x-echo': `got ${req.headers.authorization}` });
    return void res.end(completion('echoed'));
  }
  if (mode === 'huge') {
    res.writeHead(200, { 'content-type': 'application/json' });
    const piece = 'z'.repeat(64 * 1024);
    let sent = 0;
    const pump = () => {
      while (sent < 4 * 1024 * 1024) {
        sent += piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      res.end();
    };
    return pump();
  }
  res.writeHead(404).end();
}

before(async () => {
  odd = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => serveOdd(req, res, body));
  });
  await new Promise<void>((r) => odd.listen(0, '127.0.0.1', r));
  oddUrl = `http://127.0.0.1:${(odd.address() as AddressInfo).port}`;
  const db = await ledgerDatabase('gw_upstream_answers');
  mock = await startMock();
  const extra = ['gzip', 'gzip-stream', 'echo-auth', 'huge']
    .map((m) => `  - model_name: odd-${m}\n    litellm_params:\n      model: openai/${m}\n      api_base: ${oddUrl}/v1\n      api_key: ${UPSTREAM_KEY}\n      input_cost_per_token: 0.000001\n      output_cost_per_token: 0.000002\n`)
    .join('');
  const counting = `  - model_name: odd-count\n    litellm_params:\n      model: anthropic/count\n      api_base: ${oddUrl}\n      api_key: ${UPSTREAM_KEY}\n`;
  const yaml = governanceConfig(mock.url, db, { general: '  max_response_size_mb: 1' }).replace('model_list:\n', `model_list:\n${extra}${counting}`);
  weir = await startWeirOn(writeConfigFile(yaml));
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => mock?.close(), () => new Promise((r) => odd?.close(r)));
});

test('a gzip-encoded answer reaches the client decoded, and its usage is charged', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  const r = await chat(weir.url, k.key, 'odd-gzip');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers['content-encoding'], undefined);
  assert.equal(r.json.choices[0].message.content, 'decoded fine');
  assert.ok(Math.abs(Number(r.headers['x-litellm-response-cost']) - (5 * 0.000001 + 7 * 0.000002)) < 1e-12, String(r.headers['x-litellm-response-cost']));
  const s = await streamCall(weir.url, '/v1/chat/completions', { authorization: `Bearer ${k.key}` }, { model: 'odd-gzip-stream', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(s.status, 200);
  assert.equal(sseJson(s.text).map((c) => c.choices?.[0]?.delta?.content ?? '').join(''), 'streamed');
});

test('response headers never carry the deployment\'s key to the client', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  const r = await chat(weir.url, k.key, 'odd-echo-auth');
  assert.equal(r.status, 200, r.text);
  assert.equal(JSON.stringify(r.headers).includes(UPSTREAM_KEY), false, JSON.stringify(r.headers));
  assert.equal(r.headers['llm_provider-authorization'], undefined);
  assert.equal(r.headers['llm_provider-set-cookie'], undefined);
  assert.equal(r.headers['llm_provider-x-echo'], 'got Bearer [redacted]');
});

test('a non-streamed answer past max_response_size_mb ends the call with a clear 502, charged an estimate', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  const r = await chat(weir.url, k.key, 'odd-huge');
  assert.equal(r.status, 502, r.text.slice(0, 300));
  assert.match(r.json.error.message, /larger than max_response_size_mb \(1 MB\)/);
  // The gateway keeps serving; the spend of the dropped answer is in the ledger checked at the end.
  assert.equal((await chat(weir.url, k.key)).status, 200);
});

test('count_tokens: a client that leaves ends the upstream call', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  const before = countTokensSeen;
  const req = http.request(`${weir.url}/v1/messages/count_tokens`, { method: 'POST', headers: { 'x-api-key': k.key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } });
  req.on('error', () => {});
  req.end(JSON.stringify({ model: 'odd-count', messages: [{ role: 'user', content: 'hi' }] }));
  await waitFor('the count_tokens call to reach the upstream', () => countTokensSeen > before);
  req.destroy();
  await waitFor('the upstream count_tokens call to be closed', () => countTokensClosed >= countTokensSeen);
});
