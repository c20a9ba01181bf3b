// The provider pass-through routes (/anthropic/*, /openai/*) under governance: model access,
// budgets, rate limits, usage and spend on their LLM routes as on the gateway's own; other
// provider routes only for the master key and admins; paths that climb out of the route refused;
// no header a Weir key or the hop used reaches the provider.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import {
  MASTER_KEY, UPSTREAM_KEY, adminOk, call, closeAndCheckLedgers, dbPool, governanceConfig, ledgerDatabase, sseJson, startMock, startWeirOn, streamCall, waitForLogs, writeConfigFile, type Weir,
} from './governance-helpers';

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;

before(async () => {
  const db = await ledgerDatabase('pt_governance');
  pool = dbPool(db);
  mock = await startMock();
  const yaml = governanceConfig(mock.url, db, { general: '  litellm_key_header_name: x-weir-key' });
  weir = await startWeirOn(writeConfigFile(yaml), {
    env: { ANTHROPIC_API_BASE: mock.url, ANTHROPIC_API_KEY: UPSTREAM_KEY, OPENAI_API_BASE: mock.url, OPENAI_API_KEY: UPSTREAM_KEY },
  });
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => pool?.end(), () => mock?.close());
});

const anthropicCall = (key: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  call(weir.url, '/anthropic/v1/messages', {
    headers: { 'x-weir-key': key, 'anthropic-version': '2023-06-01', ...headers },
    body: { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], ...body },
  });
const openaiCall = (key: string, body: Record<string, unknown> = {}) =>
  call(weir.url, '/openai/v1/chat/completions', { headers: { 'x-weir-key': key }, body: { model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], ...body } });

/** A request written byte for byte (an HTTP client library would resolve the dot segments itself). */
function raw(head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(weir.port, '127.0.0.1', () => s.write(head));
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      out += d;
      // One answer is enough: its head and the body its content-length announces.
      const end = out.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(out);
      if (end >= 0 && len && out.length >= end + 4 + Number(len[1])) s.end();
    });
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

test('a key limited to other models calls no model through the pass-through routes (403, nothing sent)', async () => {
  const k = await adminOk(weir.url, '/key/generate', { models: ['gpt'] });
  const seen = mock.requests.length;
  const a = await anthropicCall(k.key);
  assert.equal(a.status, 403, a.text);
  assert.equal(a.json.type, 'error', 'Anthropic error shape on /anthropic/*');
  assert.match(a.json.error.message, /key not allowed to access model/);
  const o = await openaiCall(k.key);
  assert.equal(o.status, 403, o.text);
  assert.match(o.json.error.message, /key not allowed to access model/);
  assert.equal(mock.requests.length, seen);
  // The same key allowed the provider-qualified name calls it.
  const q = await adminOk(weir.url, '/key/generate', { models: ['anthropic/claude-sonnet-4-5'] });
  assert.equal((await anthropicCall(q.key)).status, 200);
});

test('budgets and rate limits hold on the pass-through routes', async () => {
  const broke = await adminOk(weir.url, '/key/generate', { max_budget: 0 });
  const seen = mock.requests.length;
  const b = await anthropicCall(broke.key);
  assert.equal(b.status, 429, b.text);
  assert.match(b.json.error.message, /Budget has been exceeded/);
  const limited = await adminOk(weir.url, '/key/generate', { rpm_limit: 1 });
  const statuses = [];
  for (let i = 0; i < 6; i++) statuses.push((await openaiCall(limited.key)).status);
  assert.deepEqual(statuses, [200, 429, 429, 429, 429, 429]);
  assert.equal(mock.requests.length - seen, 1, 'only the admitted call reached the provider');
});

test('a pass-through call is charged from the usage in its answer and writes its spend row, streamed or not', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  const plain = await anthropicCall(k.key);
  assert.equal(plain.status, 200, plain.text);
  const streamed = await streamCall(weir.url, '/openai/v1/chat/completions', { 'x-weir-key': k.key }, { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(streamed.status, 200);
  // The usage chunk Weir asked for is not shown to a client that did not ask for it.
  assert.ok(sseJson(streamed.text).every((c) => !c.usage), streamed.text);
  const upstream = mock.requests[mock.requests.length - 1]!;
  assert.deepEqual(upstream.json.stream_options, { include_usage: true });
  await waitForLogs(pool, 2, 'api_key = $1', [k.token]);
  const rows = (await pool.query(`SELECT call_type, model, spend, prompt_tokens, completion_tokens FROM "LiteLLM_SpendLogs" WHERE api_key = $1 ORDER BY "startTime"`, [k.token])).rows;
  assert.deepEqual(rows.map((r) => [r.call_type, r.model]), [['pass_through_endpoint', 'claude-sonnet-4-5'], ['pass_through_endpoint', 'gpt-4o-mini']]);
  for (const r of rows) assert.ok(r.spend > 0 && r.completion_tokens > 0, JSON.stringify(r));
});

test('other provider routes (files, batches…) are for the master key, admins and keys granted them', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  const seen = mock.requests.length;
  for (const method of ['GET', 'DELETE']) {
    const r = await call(weir.url, '/openai/v1/files/file-abc', { method, headers: { 'x-weir-key': k.key } });
    assert.equal(r.status, 403, r.text);
    assert.match(r.json.error.message, /master key, proxy admins and keys whose allowed_passthrough_routes grant them/);
  }
  assert.equal(mock.requests.length, seen, 'nothing went upstream on the operator\'s key');
  await call(weir.url, '/openai/v1/files/file-abc', { headers: { 'x-weir-key': MASTER_KEY } });
  assert.equal(mock.requests[mock.requests.length - 1]!.path, '/v1/files/file-abc');
  const granted = await adminOk(weir.url, '/key/generate', { allowed_passthrough_routes: ['/openai/v1/files'] });
  await call(weir.url, '/openai/v1/files/file-def', { headers: { 'x-weir-key': granted.key } });
  assert.equal(mock.requests[mock.requests.length - 1]!.path, '/v1/files/file-def');
  const batches = await call(weir.url, '/openai/v1/batches', { headers: { 'x-weir-key': granted.key } });
  assert.equal(batches.status, 403, 'the grant covers its path only');
});

test('a path whose dot segments climb out of the route is refused; one that stays in goes resolved', async () => {
  const seen = mock.requests.length;
  for (const p of ['/openai/v1/../../key/list', '/openai/v1/%2e%2e/%2E%2E/key/list', '/anthropic/..', '/openai/v1%2f..%2f..%2fkey/list']) {
    const a = await raw(`GET ${p} HTTP/1.1\r\nhost: x\r\nx-weir-key: ${MASTER_KEY}\r\nconnection: close\r\n\r\n`);
    assert.match(a, /^HTTP\/1\.1 400 /, `${p}: ${a.slice(0, 300)}`);
  }
  assert.equal(mock.requests.length, seen);
  await raw(`GET /openai/v1/x/../models HTTP/1.1\r\nhost: x\r\nx-weir-key: ${MASTER_KEY}\r\nconnection: close\r\n\r\n`);
  assert.equal(mock.requests[mock.requests.length - 1]!.path, '/v1/models');
});

test('no header a Weir key or the hop used reaches the provider; the provider\'s own headers do', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  for (const [name, value] of [['x-goog-api-key', k.key], ['ocp-apim-subscription-key', k.key], ['authorization', `Bearer ${k.key}`], ['x-weir-key', k.key]] as const) {
    const r = await call(weir.url, '/anthropic/v1/messages', {
      headers: { [name]: value, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'context-1m-2025-08-07', 'proxy-authorization': 'Basic c2VjcmV0', cookie: 'session=s3cret', te: 'trailers', 'x-hop': 'drop-me', connection: 'close, x-hop' },
      body: { model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] },
    });
    assert.equal(r.status, 200, `${name}: ${r.text}`);
    const h = mock.requests[mock.requests.length - 1]!.headers;
    for (const gone of ['x-goog-api-key', 'ocp-apim-subscription-key', 'x-weir-key', 'proxy-authorization', 'cookie', 'te', 'x-hop']) assert.equal(h[gone], undefined, `${name}: ${gone} was forwarded`);
    assert.equal(h['x-api-key'], UPSTREAM_KEY, 'the operator\'s provider key');
    assert.equal(h['authorization'], undefined);
    assert.equal(h['anthropic-beta'], 'context-1m-2025-08-07');
    assert.equal(JSON.stringify(h).includes(k.key), false, 'the Weir key reached the provider');
  }
});

test('Expect: 100-continue and an Upgrade header are answered, not 502', async () => {
  const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
  for (const extra of ['expect: 100-continue\r\nconnection: close\r\n', 'upgrade: h2c\r\nconnection: upgrade, close\r\n']) {
    const a = await raw(`POST /anthropic/v1/messages HTTP/1.1\r\nhost: x\r\nx-weir-key: ${MASTER_KEY}\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    assert.match(a, /HTTP\/1\.1 200 /, `${extra.trim()}: ${a.slice(0, 300)}`);
  }
});

test('a provider base URL with credentials: its userinfo goes as Basic auth and its query on every path, never into the spend log', async () => {
  const db = await ledgerDatabase('pt_base_creds');
  const base = mock.url.replace('http://', 'http://proxyuser:proxy-s3cret@') + '/?tenant=t-9f8e7d';
  const w = await startWeirOn(writeConfigFile(governanceConfig(mock.url, db)), { env: { OPENAI_API_BASE: base } });
  try {
    const r = await call(w.url, '/openai/v1/chat/completions', { headers: { authorization: `Bearer ${MASTER_KEY}` }, body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } });
    assert.equal(r.status, 200, r.text);
    const seen = mock.requests[mock.requests.length - 1]!;
    assert.equal(seen.path, '/v1/chat/completions');
    assert.equal(seen.query, 'tenant=t-9f8e7d');
    assert.equal(seen.headers.authorization, `Basic ${Buffer.from('proxyuser:proxy-s3cret').toString('base64')}`);
    const p = dbPool(db);
    try {
      await waitForLogs(p, 1);
      const row = (await p.query(`SELECT api_base FROM "LiteLLM_SpendLogs"`)).rows[0];
      assert.equal(String(row.api_base).includes('proxy-s3cret'), false, row.api_base);
    } finally {
      await p.end();
    }
  } finally {
    await w.stop();
  }
});
