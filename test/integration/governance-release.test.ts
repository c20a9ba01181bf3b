// What a call holds (its budget reservation and its rate-limit slots) is given back however the
// call ends: the client leaving while the gateway waits to retry, or the worker retiring. A key
// whose holdings leaked would answer 429 to every later call.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { MockUpstream } from '../support/mock-upstream';
import {
  CALL_COST, UPSTREAM_KEY, type Weir, adminOk, bearer, call, chat, chatBody, governanceConfig, startMock, startWeirOn, waitFor, writeConfigFile, ledgerDatabase, closeAndCheckLedgers,
} from './governance-helpers';

let mock: MockUpstream;
let weir: Weir;

before(async () => {
  const db = await ledgerDatabase('gov_release');
  mock = await startMock();
  // One retry, so a 429 with retry-after makes the gateway wait before calling again.
  const yaml = governanceConfig(mock.url, db).replace('num_retries: 0', 'num_retries: 1');
  weir = await startWeirOn(writeConfigFile(yaml), { args: ['--detailed_debug'] });
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => mock?.close());
});

/** A chat call the test can cut off: `abort()` destroys the client socket. */
function cuttableChat(key: string): { abort(): void; ended: Promise<void> } {
  const data = JSON.stringify(chatBody());
  const url = new URL('/v1/chat/completions', weir.url);
  const req = http.request({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    agent: false,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
  });
  const ended = new Promise<void>((resolve) => {
    req.on('error', () => resolve());
    req.on('close', () => resolve());
  });
  req.end(data);
  return { abort: () => req.destroy(), ended };
}

test('a client that leaves while the gateway waits to retry gives back its reservation and its parallel slot', async () => {
  // Room for exactly one call in flight, by budget and by max_parallel_requests.
  const k = await adminOk(weir.url, '/key/generate', { max_budget: CALL_COST * 1.5, max_parallel_requests: 1 });
  mock.enqueue({ status: 429, headers: { 'retry-after': '30' }, errorMessage: 'slow down' });
  const seen = mock.requests.length;
  const c = cuttableChat(k.key);
  // The worker logs the retry it scheduled: from then on the call waits 30 s in its backoff.
  await waitFor('the retry to be scheduled', () => /retry 1 in 30000ms/.test(weir.output()));
  c.abort();
  await c.ended;
  // The next call is admitted (no 429 for the parallel limit, none for the budget) and served.
  const r = await waitFor('a call admitted after the abort', async () => {
    const a = await chat(weir.url, k.key);
    return a.status === 200 ? a : null;
  });
  assert.equal(r.json.object, 'chat.completion');
  assert.equal(mock.requests.length - seen, 2, 'the abandoned call was never retried upstream');
});

test('a pass-through call admitted and then refused before its upstream call gives back its parallel slot and reservation', async () => {
  // OpenAI's base names a scheme no HTTP pool takes: the call is admitted, then its setup throws
  // before anything is sent. Anthropic's pass-through still reaches the mock.
  const db = await ledgerDatabase('gov_release_setup');
  const broken = await startWeirOn(writeConfigFile(governanceConfig(mock.url, db)), {
    workers: 1,
    env: { OPENAI_API_BASE: 'ftp://127.0.0.1:1', OPENAI_API_KEY: UPSTREAM_KEY, ANTHROPIC_API_BASE: mock.url, ANTHROPIC_API_KEY: UPSTREAM_KEY },
  });
  try {
    // Room for exactly one call in flight: a call that kept its slot would refuse every later one.
    const k = await adminOk(broken.url, '/key/generate', { max_parallel_requests: 1, max_budget: 10 });
    const seen = mock.requests.length;
    for (let i = 0; i < 3; i++) {
      const r = await call(broken.url, '/openai/v1/chat/completions', { headers: bearer(k.key), body: { model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(r.status, 500, r.text);
      assert.match(r.json.error.message, /not an http\(s\) origin: ftp:/);
    }
    assert.equal(mock.requests.length, seen, 'nothing reached an upstream');
    const ok = await call(broken.url, '/anthropic/v1/messages', {
      headers: { ...bearer(k.key), 'anthropic-version': '2023-06-01' },
      body: { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
    });
    assert.equal(ok.status, 200, ok.text);
  } finally {
    await broken.stop();
  }
  // A retiring worker gives back what no request held any more, and says so: nothing was left.
  assert.doesNotMatch(broken.output(), /gave back \d+ budget reservation/);
});
