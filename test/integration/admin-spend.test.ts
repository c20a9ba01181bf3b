// /spend/logs, /global/spend*, /user/daily/activity and /team/daily/activity on rows written
// straight into LiteLLM_SpendLogs and the Daily* tables.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { stopTestPostgres } from '../support/postgres';
import { type Harness, harness } from './admin-harness.test';

let h: Harness;
let keyA: { key: string; token: string };
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

async function log(id: string, apiKey: string, start: string, spend: number, extra: Record<string, unknown> = {}) {
  const row = { request_id: id, call_type: 'acompletion', api_key: apiKey, spend, startTime: start, endTime: start, model: 'gpt-4o', user: '', prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, ...extra };
  const cols = Object.keys(row);
  await h.rows(`INSERT INTO "LiteLLM_SpendLogs" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
}

async function daily(table: string, entityCol: string, entity: string, date: string, apiKey: string, model: string, spend: number, n = 1) {
  await h.rows(
    `INSERT INTO "${table}" (id, ${entityCol}, date, api_key, model, model_group, custom_llm_provider, prompt_tokens, completion_tokens, cache_read_input_tokens, spend, api_requests, successful_requests, failed_requests, updated_at)
     VALUES (gen_random_uuid()::text, $1, $2, $3, $4, $4, 'openai', $5, $6, 1, $7, $8, $8, 0, now())`,
    [entity, date, apiKey, model, 100 * n, 50 * n, spend, n],
  );
}

before(async () => {
  h = await harness('admin_spend', { maxBudget: 1000 });
  await h.ok('POST', '/team/new', { team_id: 'tm', team_alias: 'Team M' });
  await h.ok('POST', '/user/new', { user_id: 'alice', user_email: 'alice@example.com', auto_create_key: false });
  keyA = await h.ok('POST', '/key/generate', { key_alias: 'key-a', user_id: 'alice', team_id: 'tm' });
  await log('r1', keyA.token, '2025-03-10T10:00:00Z', 1.5, { user: 'alice', team_id: 'tm', end_user: 'cust1' });
  await log('r2', keyA.token, '2025-03-11T10:00:00Z', 2.0, { user: 'alice', team_id: 'tm', model: 'claude', end_user: 'cust1' });
  await log('r3', sha('sk-other'), '2025-03-11T11:00:00Z', 0.5, { end_user: 'cust2' });
  await log('old', keyA.token, '2024-12-01T10:00:00Z', 100, { user: 'alice' });
  await daily('LiteLLM_DailyUserSpend', 'user_id', 'alice', '2025-03-10', keyA.token, 'gpt-4o', 1.5);
  await daily('LiteLLM_DailyUserSpend', 'user_id', 'alice', '2025-03-11', keyA.token, 'gpt-4o', 1.0);
  await daily('LiteLLM_DailyUserSpend', 'user_id', 'alice', '2025-03-11', keyA.token, 'claude', 2.0, 2);
  await daily('LiteLLM_DailyUserSpend', 'user_id', 'bob', '2025-03-11', sha('sk-other'), 'gpt-4o', 0.5);
  await daily('LiteLLM_DailyTeamSpend', 'team_id', 'tm', '2025-03-11', keyA.token, 'gpt-4o', 3.0);
});
after(async () => {
  await h.close();
  await stopTestPostgres();
});

test('/spend/logs: by api_key (raw or hash), request_id, user_id, or everything', async () => {
  const byKey = await h.ok('GET', `/spend/logs?api_key=${encodeURIComponent(keyA.key)}`);
  assert.deepEqual(byKey.map((r: any) => r.request_id), ['r2', 'r1', 'old']);
  assert.equal(byKey[0].startTime, '2025-03-11T10:00:00.000Z');
  assert.deepEqual((await h.ok('GET', `/spend/logs?api_key=${keyA.token}`)).length, 3);
  const one = await h.ok('GET', '/spend/logs?request_id=r3');
  assert.deepEqual(one.map((r: any) => r.request_id), ['r3']);
  assert.deepEqual((await h.ok('GET', '/spend/logs?user_id=alice')).map((r: any) => r.request_id), ['r2', 'r1', 'old']);
  assert.equal((await h.ok('GET', '/spend/logs')).length, 4);
});

test('/spend/logs with dates: raw rows or a per-day summary', async () => {
  const raw = await h.ok('GET', '/spend/logs?start_date=2025-03-10&end_date=2025-03-11&summarize=false');
  assert.deepEqual(raw.map((r: any) => r.request_id), ['r3', 'r2', 'r1']);
  const sum = await h.ok('GET', '/spend/logs?start_date=2025-03-10&end_date=2025-03-11');
  assert.deepEqual(sum, [
    { startTime: '2025-03-10', spend: 1.5, users: { alice: 1.5 }, models: { 'gpt-4o': 1.5 }, [keyA.token]: 1.5 },
    { startTime: '2025-03-11', spend: 2.5, users: { alice: 2.0, '': 0.5 }, models: { claude: 2.0, 'gpt-4o': 0.5 }, [keyA.token]: 2.0, [sha('sk-other')]: 0.5 },
  ]);
  const filtered = await h.ok('GET', `/spend/logs?start_date=2025-03-10&end_date=2025-03-11&api_key=${keyA.token}&summarize=false`);
  assert.equal(filtered.length, 2);
  assert.equal((await h.fail(400, 'GET', '/spend/logs?start_date=2025-03-10')).param, 'end_date');
  assert.equal((await h.fail(400, 'GET', '/spend/logs?start_date=yesterday&end_date=2025-03-11')).param, 'start_date');
  assert.equal((await h.fail(422, 'GET', '/spend/logs?summarize=maybe')).param, 'summarize');
});

test('/global/spend and /global/spend/keys|models|teams|end_users (last 30 days)', async () => {
  assert.deepEqual(await h.ok('GET', '/global/spend'), { spend: 4, max_budget: 1000 });
  const keys = await h.ok('GET', '/global/spend/keys');
  assert.deepEqual(keys, [
    { api_key: keyA.token, key_alias: 'key-a', key_name: keyA.key.replace(/^(sk-).*(.{4})$/, 'sk-...$2'), total_spend: 3.5 },
    { api_key: sha('sk-other'), key_alias: null, key_name: null, total_spend: 0.5 },
  ]);
  assert.equal((await h.ok('GET', '/global/spend/keys?limit=1')).length, 1);
  const models = await h.ok('GET', '/global/spend/models');
  assert.deepEqual(models.map((m: any) => [m.model, m.total_spend]).sort(), [['claude', 2], ['gpt-4o', 2]]);
  const teams = await h.ok('GET', '/global/spend/teams');
  assert.deepEqual(teams, {
    daily_spend: [
      { date: '2025-03-10', 'Team M': 1.5 },
      { date: '2025-03-11', 'Team M': 2, Unassigned: 0.5 },
    ],
    teams: ['Team M', 'Unassigned'],
  });
  assert.deepEqual(await h.ok('GET', '/global/spend/end_users'), [
    { end_user: 'cust1', total_events: 2, total_spend: 3.5 },
    { end_user: 'cust2', total_events: 1, total_spend: 0.5 },
  ]);
  const forKey = await h.ok('POST', '/global/spend/end_users', { api_key: keyA.key, startTime: '2025-03-11T00:00:00Z', endTime: '2025-03-12T00:00:00Z' });
  assert.deepEqual(forKey, [{ end_user: 'cust1', total_events: 1, total_spend: 2 }]);
  await h.fail(400, 'POST', '/global/spend/end_users', { startTime: 'not a date' });
  await h.fail(422, 'GET', '/global/spend/keys?limit=x');
});

test('/user/daily/activity: results per day with breakdowns, metadata with totals and pages', async () => {
  const r = await h.ok('GET', '/user/daily/activity?start_date=2025-03-01&end_date=2025-03-31');
  assert.deepEqual(r.results.map((d: any) => d.date), ['2025-03-11', '2025-03-10']);
  const d11 = r.results[0];
  assert.deepEqual(d11.metrics, {
    spend: 3.5,
    prompt_tokens: 400,
    completion_tokens: 200,
    total_tokens: 600,
    api_requests: 4,
    successful_requests: 4,
    failed_requests: 0,
    cache_read_input_tokens: 3,
    cache_creation_input_tokens: 0,
  });
  assert.equal(d11.breakdown.models.claude.metrics.spend, 2);
  assert.equal(d11.breakdown.models.claude.api_key_breakdown[keyA.token].metrics.api_requests, 2);
  assert.deepEqual(d11.breakdown.models.claude.api_key_breakdown[keyA.token].metadata, { key_alias: 'key-a', team_id: 'tm', user_id: 'alice', key_exists: true });
  assert.equal(d11.breakdown.providers.openai.metrics.spend, 3.5);
  assert.equal(d11.breakdown.api_keys[keyA.token].metrics.spend, 3);
  assert.equal(d11.breakdown.api_keys[sha('sk-other')].metadata.key_exists, false);
  assert.equal(d11.breakdown.entities.alice.metadata.user_email, 'alice@example.com');
  assert.equal(r.metadata.total_spend, 5);
  assert.equal(r.metadata.total_api_requests, 5);
  assert.equal(r.metadata.total_tokens, 750);
  assert.deepEqual([r.metadata.page, r.metadata.total_pages, r.metadata.has_more], [1, 1, false]);

  const alice = await h.ok('GET', '/user/daily/activity?start_date=2025-03-11&end_date=2025-03-11&user_id=alice&model=claude');
  assert.equal(alice.metadata.total_spend, 2);
  const byKey = await h.ok('GET', `/user/daily/activity?start_date=2025-03-01&end_date=2025-03-31&api_key=${encodeURIComponent(keyA.key)}`);
  assert.equal(byKey.metadata.total_spend, 4.5);
  const p1 = await h.ok('GET', '/user/daily/activity?start_date=2025-03-01&end_date=2025-03-31&page_size=3');
  assert.deepEqual([p1.metadata.page, p1.metadata.total_pages, p1.metadata.has_more], [1, 2, true]);
  const p2 = await h.ok('GET', '/user/daily/activity?start_date=2025-03-01&end_date=2025-03-31&page_size=3&page=2');
  assert.deepEqual(p2.results.map((d: any) => d.date), ['2025-03-10']);
  assert.equal((await h.fail(400, 'GET', '/user/daily/activity?start_date=2025-03-01')).message, 'Please provide start_date and end_date');
  await h.fail(422, 'GET', '/user/daily/activity?start_date=2025-03-01&end_date=2025-03-31&page_size=5000');
  const empty = await h.ok('GET', '/user/daily/activity?start_date=2020-01-01&end_date=2020-01-31');
  assert.deepEqual(empty.results, []);
  assert.equal(empty.metadata.total_spend, 0);
});

test('/team/daily/activity: entities carry the team alias', async () => {
  const r = await h.ok('GET', '/team/daily/activity?start_date=2025-03-01&end_date=2025-03-31');
  assert.equal(r.results.length, 1);
  assert.deepEqual(r.results[0].breakdown.entities.tm.metadata, { team_alias: 'Team M' });
  assert.equal(r.results[0].breakdown.entities.tm.metrics.spend, 3);
  assert.equal((await h.ok('GET', '/team/daily/activity?start_date=2025-03-01&end_date=2025-03-31&team_ids=other')).results.length, 0);
  assert.equal((await h.ok('GET', '/team/daily/activity?start_date=2025-03-01&end_date=2025-03-31&exclude_team_ids=tm')).results.length, 0);
});
