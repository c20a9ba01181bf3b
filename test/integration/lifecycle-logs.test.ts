// What the gateway prints while it serves: nothing per request by default, one line per request
// with --detailed_debug, and never a secret (master key, a deployment's api_key, a client's key)
// whatever happens: good and bad keys, upstream errors that echo the key, reloads good and bad.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import {
  auth, call, chat, CLIENT_BAD_KEY, config, countMatches, DEPLOY_KEY, MASTER_KEY, startMock, startWeir, waitFor,
} from './lifecycle-helpers';

const NO_RETRIES = 'router_settings:\n  num_retries: 0\n';
const MASTER = `general_settings:\n  master_key: ${MASTER_KEY}\n`;

/** Lines printed after the start lines (the last start line is `auth: …`). */
function linesAfterStart(out: string): string[] {
  const i = out.indexOf('\n', out.indexOf(' auth: '));
  return out.slice(i + 1).split('\n').filter(Boolean);
}

test('without --detailed_debug no line is printed per request', async (t) => {
  const mock = await startMock(t);
  const gw = await startWeir(t, { config: config({ alpha: mock.url + '/v1' }, MASTER + NO_RETRIES), workers: 2 });
  await chat(gw.url, 'alpha');
  await chat(gw.url, 'alpha', { extra: { stream: true } });
  await chat(gw.url, 'alpha', { key: CLIENT_BAD_KEY });
  await call(gw.url, '/v1/models', { headers: auth() });
  mock.enqueue({ status: 500 });
  assert.equal((await chat(gw.url, 'alpha')).status, 500);
  await new Promise((r) => setTimeout(r, 200)); // a line would be written synchronously with the answer
  assert.deepEqual(linesAfterStart(gw.output()), []);
});

test('with --detailed_debug one line per LLM request: method, path, model, status', async (t) => {
  const mock = await startMock(t);
  const gw = await startWeir(t, { config: config({ alpha: mock.url + '/v1' }, MASTER + NO_RETRIES), workers: 2, args: ['--detailed_debug'] });
  assert.equal((await chat(gw.url, 'alpha')).status, 200);
  assert.equal((await chat(gw.url, 'alpha', { extra: { stream: true } })).status, 200);
  mock.enqueue({ status: 429, errorMessage: 'slow down' });
  assert.equal((await chat(gw.url, 'alpha')).status, 429);
  await waitFor('3 request lines', () => countMatches(gw.output(), / weir debug /g) >= 3, 3_000);
  const lines = linesAfterStart(gw.output());
  assert.equal(lines.length, 3, lines.join('\n'));
  assert.match(lines[0]!, /^\S+ weir debug POST \/v1\/chat\/completions model=alpha .*status=200\b/);
  assert.match(lines[1]!, /^\S+ weir debug POST \/v1\/chat\/completions model=alpha .*status=200\b/);
  assert.match(lines[2]!, /^\S+ weir debug POST \/v1\/chat\/completions model=alpha .*status=429\b/);
});

test(
  'with --detailed_debug requests refused before routing (bad key, unknown model) get their line too',
  async (t) => {
    const mock = await startMock(t);
    const gw = await startWeir(t, { config: config({ alpha: mock.url + '/v1' }, MASTER), workers: 1, args: ['--detailed_debug'] });
    assert.equal((await chat(gw.url, 'alpha', { key: CLIENT_BAD_KEY })).status, 401);
    assert.equal((await chat(gw.url, 'no-such-model', { timeoutMs: 2_000 })).status, 400);
    await waitFor('2 request lines', () => countMatches(gw.output(), / weir debug /g) >= 2, 1_500);
    const lines = linesAfterStart(gw.output());
    assert.match(lines[0]!, /POST \/v1\/chat\/completions .*status=401\b/);
    assert.match(lines[1]!, /POST \/v1\/chat\/completions status=400\b.*model=no-such-model/);
  },
);

test('no log line ever contains the master key, a deployment api_key or a client key', async (t) => {
  const mock = await startMock(t);
  // The upstream echoes the credential it was sent, as OpenAI's 401 does ("Incorrect API key provided: sk-…").
  const echo = (status: number) => ({ status, errorMessage: `Incorrect API key provided: ${DEPLOY_KEY}. Header was Bearer ${DEPLOY_KEY}` });
  const dead = 'http://127.0.0.1:9/v1';
  const yaml = (extra: string) => config({ alpha: mock.url + '/v1', beta: mock.url + '/v1', down: dead }, MASTER + NO_RETRIES + extra);
  const gw = await startWeir(t, { config: yaml(''), workers: 2, args: ['--detailed_debug'] });
  const bad: Record<string, string>[] = [
    { authorization: `Bearer ${CLIENT_BAD_KEY}` },
    { 'x-api-key': CLIENT_BAD_KEY },
    { 'api-key': CLIENT_BAD_KEY },
    { 'x-litellm-api-key': CLIENT_BAD_KEY },
    { authorization: `Basic ${CLIENT_BAD_KEY}` },
    { authorization: CLIENT_BAD_KEY },
  ];
  for (const headers of bad) {
    const r = await call(gw.url, '/v1/chat/completions', { headers, body: { model: 'alpha', messages: [] } });
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.ok(!r.text.includes(CLIENT_BAD_KEY), `the 401 body echoes the client key: ${r.text}`);
  }
  assert.equal((await chat(gw.url, 'alpha')).status, 200);
  assert.equal((await chat(gw.url, 'alpha', { extra: { stream: true } })).status, 200);
  for (const status of [401, 403, 500]) {
    mock.enqueue(echo(status));
    const r = await chat(gw.url, 'alpha');
    assert.equal(r.status, status);
    assert.ok(!r.text.includes(DEPLOY_KEY), `the client sees the deployment key: ${r.text}`);
  }
  mock.enqueue({ reset: true });
  assert.equal((await chat(gw.url, 'alpha')).status, 502);
  assert.equal((await chat(gw.url, 'down')).status, 502);
  // The master key in x-api-key (Anthropic clients) and an upstream that echoes the key behind a retry.
  mock.enqueue(echo(401));
  assert.equal((await call(gw.url, '/v1/chat/completions', { headers: { 'x-api-key': MASTER_KEY }, body: { model: 'alpha', messages: [] } })).status, 401);
  // Reloads: allowed, refused (no key / wrong key), and a bad config (wrong type; missing env var).
  assert.equal((await call(gw.url, '/config/reload', { method: 'POST', headers: auth(CLIENT_BAD_KEY) })).status, 401);
  assert.equal((await call(gw.url, '/config/reload', { method: 'POST', headers: auth() })).status, 200);
  fs.writeFileSync(gw.configPath, yaml('litellm_settings:\n  request_timeout: soon\n'));
  assert.equal((await call(gw.url, '/config/reload', { method: 'POST', headers: auth() })).status, 400);
  fs.writeFileSync(gw.configPath, yaml('agent_settings:\n  public_url: os.environ/WEIR_LIFECYCLE_NOT_SET\n'));
  assert.equal((await call(gw.url, '/config/reload', { method: 'POST', headers: auth() })).status, 400);
  gw.proc.kill('SIGHUP');
  await waitFor('SIGHUP reload line', () => /config reload \(SIGHUP\)/.test(gw.output()), 3_000);
  fs.writeFileSync(gw.configPath, yaml(''));
  await waitFor('file reload line', () => /config reloaded \(file changed\)/.test(gw.output()), 4_000);
  assert.equal((await chat(gw.url, 'beta')).status, 200);

  const out = gw.output();
  assert.match(out, /weir debug .*status=401/, 'the upstream 401 was logged');
  assert.match(out, /config reload \(POST \/config\/reload\) refused/);
  // Not even the masked form the 401 answer shows the client (first and last 4 characters).
  const maskedClientKey = `${CLIENT_BAD_KEY.slice(0, 4)}****${CLIENT_BAD_KEY.slice(-4)}`;
  for (const [what, secret] of [['master key', MASTER_KEY], ['deployment api_key', DEPLOY_KEY], ['client key', CLIENT_BAD_KEY], ['masked client key', maskedClientKey]] as const) {
    const leaks = out.split('\n').filter((l) => l.includes(secret));
    assert.deepEqual(leaks, [], `log lines contain the ${what}`);
  }
});

test(
  'a refused reload does not print a secret that sits in a value of the wrong type',
  async (t) => {
    const mock = await startMock(t);
    const gw = await startWeir(t, { config: config({ alpha: mock.url + '/v1' }, MASTER), workers: 1 });
    const secretNumber = '73019265544';
    const secretHeader = `Bearer ${DEPLOY_KEY}`;
    fs.writeFileSync(gw.configPath, config({ alpha: mock.url + '/v1' }, `general_settings:\n  master_key: ${secretNumber}\n`));
    const r1 = await call(gw.url, '/config/reload', { method: 'POST', headers: auth() });
    assert.equal(r1.status, 400);
    fs.writeFileSync(gw.configPath, config({ alpha: mock.url + '/v1' }, MASTER).replace(`      api_key: ${DEPLOY_KEY}\n`, `      extra_headers: "Authorization: ${secretHeader}"\n`));
    const r2 = await call(gw.url, '/config/reload', { method: 'POST', headers: auth() });
    assert.equal(r2.status, 400);
    const leaks = gw.output().split('\n').filter((l) => l.includes(secretNumber) || l.includes(DEPLOY_KEY));
    assert.deepEqual(leaks, []);
  },
);

test('WEIR_WORKER_YOUNG_GEN_MB under a --max-semi-space-size flag: the start says it has no effect', async (t) => {
  const mock = await startMock(t);
  const warning = /weir warn WEIR_WORKER_YOUNG_GEN_MB=12 has no effect: V8 gives every thread the young generation of --max-semi-space-size=4/;
  const flagged = await startWeir(t, { config: config({ alpha: mock.url + '/v1' }, MASTER), workers: 1, env: { WEIR_WORKER_YOUNG_GEN_MB: '12', NODE_OPTIONS: '--max-semi-space-size=4' } });
  assert.match(flagged.output(), warning);
  const alone = await startWeir(t, { config: config({ alpha: mock.url + '/v1' }, MASTER), workers: 1, env: { WEIR_WORKER_YOUNG_GEN_MB: '12', NODE_OPTIONS: '' } });
  assert.doesNotMatch(alone.output(), /WEIR_WORKER_YOUNG_GEN_MB/);
});
