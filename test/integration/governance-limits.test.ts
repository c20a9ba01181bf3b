// rpm / tpm / max_parallel_requests end to end: exact across the gateway's 2 workers, on fresh
// connections, with LiteLLM's 429 message, retry-after and x-ratelimit-* headers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MockUpstream } from '../support/mock-upstream';
import {
  type Answer, type Weir, adminOk, burst, chat, governanceConfig, messages, sleep, startMock, startWeirOn, tally, writeConfigFile, ledgerDatabase, closeAndCheckLedgers,
} from './governance-helpers';

let mock: MockUpstream;
let weir: Weir;

before(async () => {
  const db = await ledgerDatabase('gov_limits');
  mock = await startMock();
  weir = await startWeirOn(writeConfigFile(governanceConfig(mock.url, db)));
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => mock?.close());
});

/** Windows are calendar minutes: start a burst well inside one, so it cannot straddle two. */
async function awayFromMinuteEdge(needMs = 8_000): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 60_000 - needMs) await sleep(60_000 - into + 200);
}

function checkRateLimited(r: Answer, descriptor: string, value: string, kind: string, limit: number): void {
  assert.equal(r.status, 429, r.text);
  assert.equal(r.json.error.type, 'rate_limit_error');
  assert.equal(r.json.error.code, '429');
  const re = new RegExp(
    `^Rate limit exceeded for ${descriptor}: ${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\. Limit type: ${kind}\\. Current limit: ${limit}, Remaining: 0\\. Limit resets at: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC$`,
  );
  assert.match(r.json.error.message, re);
  const retryAfter = Number(r.headers['retry-after']);
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after: ${r.headers['retry-after']}`);
  assert.equal(r.headers['rate_limit_type'], kind);
}

test('key rpm_limit 50: 200 concurrent calls on fresh connections → exactly 50 pass', async () => {
  await awayFromMinuteEdge();
  const k = await adminOk(weir.url, '/key/generate', { rpm_limit: 50 });
  const before = mock.requests.length;
  const rs = await burst(200, () => chat(weir.url, k.key));
  assert.deepEqual(tally(rs), { 200: 50, 429: 150 });
  assert.equal(mock.requests.length - before, 50, 'only the admitted calls reached the upstream');
  checkRateLimited(rs.find((r) => r.status === 429)!, 'api_key', k.token, 'requests', 50);
  const remaining = rs.filter((r) => r.status === 200).map((r) => Number(r.headers['x-ratelimit-api_key-remaining-requests']));
  for (const r of rs.filter((x) => x.status === 200)) {
    assert.equal(r.headers['x-ratelimit-api_key-limit-requests'], '50');
    assert.equal(r.headers['x-litellm-key-rpm-limit'], '50');
  }
  assert.ok(remaining.every((n) => Number.isInteger(n) && n >= 0 && n < 50), `remaining: ${remaining}`);
  // The Anthropic dialect is counted in the same window and refused in its own envelope.
  const a = await messages(weir.url, k.key);
  assert.equal(a.status, 429);
  assert.equal(a.json.error.type, 'rate_limit_error');
  assert.ok(a.headers['retry-after']);
});

test('max_parallel_requests 5 with a slow upstream: never more than 5 in flight at the upstream', async () => {
  const k = await adminOk(weir.url, '/key/generate', { max_parallel_requests: 5 });
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, mock.activeRequests());
      await sleep(2);
    }
  })();
  const before = mock.requests.length;
  const rs = await burst(20, () => chat(weir.url, k.key, 'gpt', { mock_behavior: { delayMs: 1500 } }));
  sampling = false;
  await sampler;
  const t = tally(rs);
  assert.equal(t[200], 5, JSON.stringify(t));
  assert.equal(t[429], 15);
  assert.ok(peak <= 5, `peak in flight at the upstream: ${peak}`);
  assert.equal(mock.requests.length - before, 5);
  checkRateLimited(rs.find((r) => r.status === 429)!, 'api_key', k.token, 'max_parallel_requests', 5);
  // Slots are given back when calls end: the key works again.
  assert.equal((await chat(weir.url, k.key)).status, 200);
});

test('tpm_limit: once a call used more tokens than the limit, the next one is refused', async () => {
  await awayFromMinuteEdge();
  const k = await adminOk(weir.url, '/key/generate', { tpm_limit: 10 });
  const first = await chat(weir.url, k.key);
  assert.equal(first.status, 200);
  assert.ok(first.json.usage.total_tokens > 10);
  assert.equal(first.headers['x-ratelimit-api_key-limit-tokens'], '10');
  const second = await chat(weir.url, k.key);
  checkRateLimited(second, 'api_key', k.token, 'tokens', 10);
  const rs = await burst(10, () => chat(weir.url, k.key));
  assert.deepEqual(tally(rs), { 429: 10 });
});

test('team rpm_limit counts the calls of every key of the team', async () => {
  await awayFromMinuteEdge();
  const team = await adminOk(weir.url, '/team/new', { rpm_limit: 7 });
  const keys = await Promise.all([0, 1, 2].map(() => adminOk(weir.url, '/key/generate', { team_id: team.team_id })));
  let i = 0;
  const rs = await burst(30, () => chat(weir.url, keys[i++ % 3]!.key));
  assert.deepEqual(tally(rs), { 200: 7, 429: 23 });
  checkRateLimited(rs.find((r) => r.status === 429)!, 'team', team.team_id, 'requests', 7);
});

test('user rpm_limit counts the calls of every key of the user', async () => {
  await awayFromMinuteEdge();
  await adminOk(weir.url, '/user/new', { user_id: 'rpm-user', rpm_limit: 4 });
  const keys = await Promise.all([0, 1].map(() => adminOk(weir.url, '/key/generate', { user_id: 'rpm-user' })));
  let i = 0;
  const rs = await burst(20, () => chat(weir.url, keys[i++ % 2]!.key));
  assert.deepEqual(tally(rs), { 200: 4, 429: 16 });
  checkRateLimited(rs.find((r) => r.status === 429)!, 'user', 'rpm-user', 'requests', 4);
});

test('end-user rpm_limit (customer budget row) across keys', async () => {
  await awayFromMinuteEdge();
  await adminOk(weir.url, '/customer/new', { user_id: 'rpm-customer', rpm_limit: 3 });
  const keys = await Promise.all([0, 1].map(() => adminOk(weir.url, '/key/generate', {})));
  let i = 0;
  const rs = await burst(20, () => chat(weir.url, keys[i++ % 2]!.key, 'gpt', { user: 'rpm-customer' }));
  assert.deepEqual(tally(rs), { 200: 3, 429: 17 });
  checkRateLimited(rs.find((r) => r.status === 429)!, 'end_user', 'rpm-customer', 'requests', 3);
});

test('team member rpm_limit (/team/member_update)', async () => {
  await awayFromMinuteEdge();
  const team = await adminOk(weir.url, '/team/new', {});
  await adminOk(weir.url, '/user/new', { user_id: 'rpm-member' });
  await adminOk(weir.url, '/team/member_add', { team_id: team.team_id, member: [{ user_id: 'rpm-member', role: 'user' }] });
  await adminOk(weir.url, '/team/member_update', { team_id: team.team_id, user_id: 'rpm-member', rpm_limit: 2 });
  const k = await adminOk(weir.url, '/key/generate', { team_id: team.team_id, user_id: 'rpm-member' });
  const rs = await burst(12, () => chat(weir.url, k.key));
  assert.deepEqual(tally(rs), { 200: 2, 429: 10 });
  checkRateLimited(rs.find((r) => r.status === 429)!, 'team_member', `${team.team_id}:rpm-member`, 'requests', 2);
});
