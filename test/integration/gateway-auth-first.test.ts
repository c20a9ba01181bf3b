// The caller is known before its body is read. A request with a key the gateway has never seen
// (a made-up `sk-` key) waits for one lookup with its body unread, and is refused without
// reading more; however slowly such clients send, no worker fails and nothing is buffered for them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import type { MockUpstream } from '../support/mock-upstream';
import {
  type Weir, MASTER_KEY, call, adminOk, chat, dbPool, governanceConfig, startMock, startWeirOn, writeConfigFile, ledgerDatabase, closeAndCheckLedgers,
} from './governance-helpers';
import type { Pool } from 'pg';

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;

before(async () => {
  const db = await ledgerDatabase('gw_auth_first');
  pool = dbPool(db);
  mock = await startMock();
  // No periodic re-read of the tables: a key written to them by SQL is found only by the lookup.
  weir = await startWeirOn(writeConfigFile(governanceConfig(mock.url, db)), { env: { WEIR_SYNC_INTERVAL_MS: '3600000' } });
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => mock?.close(), () => pool?.end());
});

/**
 * Sends the head of a POST that announces `declared` body bytes and only `sent` of them, then
 * waits for whatever the gateway answers. Resolves with the raw answer once the gateway closes.
 */
function slowPost(path: string, key: string, declared: number, sent: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(weir.port, '127.0.0.1', () => {
      s.write(`POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\ncontent-type: application/json\r\ncontent-length: ${declared}\r\n\r\n`);
      s.write('{"model":"gpt",'.padEnd(sent, ' ').slice(0, sent));
    });
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (out += d));
    s.on('close', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(20_000, () => {
      s.destroy();
      reject(new Error(`no answer (got ${JSON.stringify(out)})`));
    });
  });
}

test('made-up keys on slow, half-sent bodies are refused at once, and no worker fails', async () => {
  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => slowPost('/v1/chat/completions', `sk-made-up-${i}-${'x'.repeat(20)}`, 64 * 1024 * 1024, 16)));
  for (const a of answers) {
    assert.match(a, /^HTTP\/1\.1 401 /, a.slice(0, 200));
    assert.match(a, /Invalid proxy server token passed/);
  }
  // The same requests on the Anthropic route, the pass-through routes and the admin API.
  for (const p of ['/v1/messages', '/anthropic/v1/messages', '/openai/v1/chat/completions', '/key/generate', '/v1/messages/count_tokens']) {
    assert.match(await slowPost(p, 'sk-made-up-other-route-123456789', 64 * 1024 * 1024, 16), /^HTTP\/1\.1 401 /, p);
  }
  assert.doesNotMatch(weir.output(), /worker \d+ failed|unhandled|starting a replacement/i, weir.output());
  // The workers that answered are the ones still serving.
  const k = await adminOk(weir.url, '/key/generate', {});
  assert.equal((await chat(weir.url, k.key)).status, 200);
});

test('a key the gateway has not seen yet is looked up while its body waits, then its body arrives whole', async () => {
  // Written by another proxy (here: SQL), so this instance meets it first on the request.
  const key = 'sk-written-elsewhere-0a1b2c3d4e5f';
  await pool.query(`INSERT INTO "LiteLLM_VerificationToken" (token, models, spend) VALUES ($1, '{}', 0)`, [createHash('sha256').update(key).digest('hex')]);
  const filler = 'y'.repeat(3 * 1024 * 1024);
  const r = await chat(weir.url, key, 'gpt', { metadata: { filler } });
  assert.equal(r.status, 200, r.text);
  const seen = mock.requests[mock.requests.length - 1]!;
  assert.equal(seen.json.metadata.filler.length, filler.length);
});

test('a refused request whose whole body is on its way gets its answer, not a reset', async () => {
  // A known-bad key is refused from the headers (the second time, from the lookup's memory);
  // the client is still sending 2 MB and must read the 401, as Python clients that send the body
  // before reading do.
  const body = JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'x'.repeat(2 * 1024 * 1024) }] });
  for (let i = 0; i < 3; i++) {
    const r = await call(weir.url, '/v1/chat/completions', { headers: { authorization: 'Bearer sk-made-up-and-remembered-0001' }, body });
    assert.equal(r.status, 401, r.text);
  }
  // Over max_request_size_mb of the admin API (1 MB): a 413 the client reads.
  const big = await call(weir.url, '/key/generate', { headers: { authorization: `Bearer ${MASTER_KEY}` }, body: { metadata: { blob: 'z'.repeat(1100 * 1024) } } });
  assert.equal(big.status, 413, big.text);
});
