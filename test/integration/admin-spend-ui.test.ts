// The admin page's spend reads: /spend/logs/ui (filters and pages) and /global/spend/breakdown (the
// Daily* tables grouped by day and one dimension), on rows written straight into the tables.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { stopTestPostgres } from '../support/postgres';
import { type Harness, harness, keyCaller } from './admin-harness.test';

let h: Harness;
let keyA: { key: string; token: string };
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

async function log(id: string, apiKey: string, start: string, spend: number, extra: Record<string, unknown> = {}) {
  const row = { request_id: id, call_type: 'acompletion', api_key: apiKey, spend, startTime: start, endTime: start, model: 'gpt-4o', user: '', status: 'success', ...extra };
  const cols = Object.keys(row);
  await h.rows(`INSERT INTO "LiteLLM_SpendLogs" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
}

async function daily(table: string, entityCol: string, entity: string, date: string, apiKey: string, model: string, spend: number, n = 1, failed = 0) {
  await h.rows(
    `INSERT INTO "${table}" (id, ${entityCol}, date, api_key, model, model_group, custom_llm_provider, prompt_tokens, completion_tokens, spend, api_requests, successful_requests, failed_requests, updated_at)
     VALUES (gen_random_uuid()::text, $1, $2, $3, $4, $4, 'openai', $5, $6, $7, $8, $9, $10, now())`,
    [entity, date, apiKey, model, 100 * n, 50 * n, spend, n, n - failed, failed],
  );
}

before(async () => {
  h = await harness('admin_spend_ui');
  await h.ok('POST', '/team/new', { team_id: 'tm', team_alias: 'Team M' });
  await h.ok('POST', '/user/new', { user_id: 'alice', user_email: 'alice@example.com', auto_create_key: false });
  keyA = await h.ok('POST', '/key/generate', { key_alias: 'key-a', user_id: 'alice', team_id: 'tm' });
  await log('r1', keyA.token, '2025-03-10T10:00:00Z', 1.5, { user: 'alice', team_id: 'tm', end_user: 'cust1' });
  await log('r2', keyA.token, '2025-03-11T10:00:00Z', 2.0, { user: 'alice', team_id: 'tm', model: 'claude', model_group: 'claude-group', status: 'failure', metadata: { error_information: { error_message: 'boom' } } });
  await log('r3', sha('sk-other'), '2025-03-11T11:00:00Z', 0.5, { end_user: 'cust2' });
  await log('r4', sha('sk-other'), '2025-03-12T00:30:00Z', 0.25);
  await daily('LiteLLM_DailyUserSpend', 'user_id', 'alice', '2025-03-10', keyA.token, 'gpt-4o', 1.5);
  await daily('LiteLLM_DailyUserSpend', 'user_id', 'alice', '2025-03-11', keyA.token, 'gpt-4o', 1.0);
  await daily('LiteLLM_DailyUserSpend', 'user_id', 'alice', '2025-03-11', keyA.token, 'claude', 2.0, 2, 1);
  await daily('LiteLLM_DailyUserSpend', 'user_id', 'bob', '2025-03-11', sha('sk-other'), 'gpt-4o', 0.5);
  await daily('LiteLLM_DailyUserSpend', 'user_id', 'bob', '2025-04-02', sha('sk-other'), 'gpt-4o', 9);
  await daily('LiteLLM_DailyTeamSpend', 'team_id', 'tm', '2025-03-11', keyA.token, 'gpt-4o', 3.0);
  await daily('LiteLLM_DailyEndUserSpend', 'end_user_id', 'cust1', '2025-03-10', keyA.token, 'gpt-4o', 1.5);
});
after(async () => {
  await h.close();
  await stopTestPostgres();
});

const ids = (r: { data: Array<{ request_id: string }> }) => r.data.map((x) => x.request_id);

test('/spend/logs/ui: newest first, paged, with the total and the key alias', async () => {
  const all = await h.ok('GET', '/spend/logs/ui');
  assert.deepEqual(ids(all), ['r4', 'r3', 'r2', 'r1']);
  assert.deepEqual([all.total, all.page, all.page_size, all.total_pages], [4, 1, 50, 1]);
  assert.equal(all.data[3].key_alias, 'key-a');
  assert.equal(all.data[2].metadata.error_information.error_message, 'boom');
  assert.equal('messages' in all.data[0], false, 'the stored bodies are not listed');
  const p2 = await h.ok('GET', '/spend/logs/ui?page_size=3&page=2');
  assert.deepEqual(ids(p2), ['r1']);
  assert.deepEqual([p2.total, p2.total_pages], [4, 2]);
});

test('/spend/logs/ui: filters by key, alias, team, user, end user, model or group, status and time', async () => {
  const f = async (qs: string) => ids(await h.ok('GET', `/spend/logs/ui?${qs}`));
  assert.deepEqual(await f(`api_key=${encodeURIComponent(keyA.key)}`), ['r2', 'r1']);
  assert.deepEqual(await f(`api_key=${sha('sk-other')}`), ['r4', 'r3']);
  assert.deepEqual(await f('key_alias=key-a'), ['r2', 'r1']);
  assert.deepEqual(await f('team_id=tm'), ['r2', 'r1']);
  assert.deepEqual(await f('user_id=alice'), ['r2', 'r1']);
  assert.deepEqual(await f('end_user=cust2'), ['r3']);
  assert.deepEqual(await f('model=claude'), ['r2']);
  assert.deepEqual(await f('model=claude-group'), ['r2']);
  assert.deepEqual(await f('status_filter=failure'), ['r2']);
  assert.deepEqual(await f('status_filter=success&model=gpt-4o'), ['r4', 'r3', 'r1']);
  assert.deepEqual(await f('start_date=2025-03-11&end_date=2025-03-11'), ['r3', 'r2'], 'a day means the whole day');
  assert.deepEqual(await f('start_date=2025-03-11T10:30:00Z&end_date=2025-03-12'), ['r4', 'r3']);
  assert.deepEqual(await f('request_id=r3'), ['r3']);
  assert.equal((await h.fail(400, 'GET', '/spend/logs/ui?status_filter=maybe')).param, 'status_filter');
  assert.equal((await h.fail(400, 'GET', '/spend/logs/ui?start_date=yesterday')).param, 'start_date');
  await h.fail(422, 'GET', '/spend/logs/ui?page_size=100000');
});

test('/spend/logs/ui for a user who does not see everything: its own rows and its admin teams\' rows; the breakdown is refused', async () => {
  const alice = keyCaller(keyA.key, 'internal_user', 'alice');
  const own = await h.ok('GET', '/spend/logs/ui', undefined, { caller: alice });
  assert.deepEqual([ids(own), own.total], [['r2', 'r1'], 2]);
  assert.deepEqual(ids(await h.ok('GET', `/spend/logs/ui?api_key=${sha('sk-other')}`, undefined, { caller: alice })), [], 'a filter cannot reach past the scope');
  await h.ok('POST', '/team/new', { team_id: 'bobs', members_with_roles: [{ user_id: 'bob', role: 'admin' }] });
  await log('r5', sha('sk-bobs'), '2025-03-12T01:00:00Z', 0.1, { team_id: 'bobs', user: 'carol' });
  const bob = keyCaller('sk-bob-key', 'internal_user', 'bob');
  assert.deepEqual(ids(await h.ok('GET', '/spend/logs/ui', undefined, { caller: bob })), ['r5'], 'a team admin reads the team\'s rows');
  await h.fail(403, 'GET', '/global/spend/breakdown?start_date=2025-03-01&end_date=2025-03-31', undefined, { caller: alice });
  await h.rows(`DELETE FROM "LiteLLM_SpendLogs" WHERE request_id = 'r5'`);
});

test('/global/spend/breakdown: the days of the range and the groups that spent most', async () => {
  const r = await h.ok('GET', '/global/spend/breakdown?start_date=2025-03-01&end_date=2025-03-31&group_by=model');
  assert.deepEqual(r.days.map((d: any) => [d.date, d.spend, d.api_requests, d.failed_requests]), [['2025-03-10', 1.5, 1, 0], ['2025-03-11', 3.5, 4, 1]]);
  assert.deepEqual(r.totals, { spend: 5, api_requests: 5, successful_requests: 4, failed_requests: 1, prompt_tokens: 500, completion_tokens: 250 });
  assert.deepEqual(r.groups.map((g: any) => [g.id, g.spend, g.daily]), [['gpt-4o', 3, { '2025-03-10': 1.5, '2025-03-11': 1.5 }], ['claude', 2, { '2025-03-11': 2 }]]);
  assert.deepEqual([r.total_groups, r.other], [2, null]);

  const keys = await h.ok('GET', '/global/spend/breakdown?start_date=2025-03-01&end_date=2025-03-31&group_by=api_key&limit=1');
  assert.deepEqual(keys.groups.map((g: any) => [g.id, g.label, g.spend]), [[keyA.token, 'key-a', 4.5]]);
  assert.equal(keys.total_groups, 2);
  assert.equal(keys.other.spend, 0.5, 'the groups past the limit are summed');
  assert.equal(keys.other.api_requests, 1);

  const users = await h.ok('GET', '/global/spend/breakdown?start_date=2025-03-01&end_date=2025-04-30&group_by=user');
  assert.deepEqual(users.groups.map((g: any) => [g.id, g.label, g.spend]), [['bob', 'bob', 9.5], ['alice', 'alice@example.com', 4.5]]);
  const teams = await h.ok('GET', '/global/spend/breakdown?start_date=2025-03-01&end_date=2025-03-31&group_by=team');
  assert.deepEqual(teams.groups.map((g: any) => [g.id, g.label, g.spend]), [['tm', 'Team M', 3]]);
  assert.deepEqual(teams.days.map((d: any) => d.date), ['2025-03-11'], 'the days come from the same table as the groups');
  const endUsers = await h.ok('GET', '/global/spend/breakdown?start_date=2025-03-01&end_date=2025-03-31&group_by=end_user');
  assert.deepEqual(endUsers.groups.map((g: any) => [g.id, g.spend]), [['cust1', 1.5]]);

  await h.rows(
    `INSERT INTO "LiteLLM_DailyUserSpend" (id, user_id, date, api_key, model, model_group, custom_llm_provider, spend, api_requests, updated_at)
     VALUES (gen_random_uuid()::text, 'alice', '2025-05-01', $1, 'weir-deployment-model', 'public-name', 'openai', 1, 1, now()),
            (gen_random_uuid()::text, 'alice', '2025-05-01', $1, 'no-group-model', NULL, 'openai', 0.5, 1, now())`,
    [keyA.token],
  );
  await h.rows(
    `INSERT INTO "LiteLLM_DailyUserSpend" (id, user_id, date, api_key, model, model_group, custom_llm_provider, spend, api_requests, updated_at)
     VALUES (gen_random_uuid()::text, '', '2025-05-01', $1, 'gpt-4o', 'gpt-4o', 'openai', 0.25, 1, now())`,
    [sha('sk-no-user')],
  );
  const noUser = await h.ok('GET', '/global/spend/breakdown?start_date=2025-05-01&end_date=2025-05-01&group_by=user');
  assert.deepEqual(noUser.groups.map((g: any) => [g.id, g.label, g.spend]), [['alice', 'alice@example.com', 1.5], ['', '(no user)', 0.25]], "keys without a user are a named group, not a blank one");
  await h.rows(`DELETE FROM "LiteLLM_DailyUserSpend" WHERE user_id = ''`);
  const named = await h.ok('GET', '/global/spend/breakdown?start_date=2025-05-01&end_date=2025-05-01&group_by=model');
  assert.deepEqual(named.groups.map((g: any) => [g.id, g.spend]), [['public-name', 1], ['no-group-model', 0.5]], 'a model is its group, as clients name it');

  const empty = await h.ok('GET', '/global/spend/breakdown?start_date=2020-01-01&end_date=2020-01-31');
  assert.deepEqual([empty.days, empty.groups, empty.total_groups, empty.totals.spend], [[], [], 0, 0]);
  assert.equal((await h.fail(400, 'GET', '/global/spend/breakdown?start_date=2025-03-01')).param, 'end_date');
  assert.equal((await h.fail(400, 'GET', '/global/spend/breakdown?start_date=2025-03-01&end_date=2025-03-31&group_by=__proto__')).param, 'group_by');
  await h.fail(422, 'GET', '/global/spend/breakdown?start_date=2025-03-01&end_date=2025-03-31&limit=1000');
});
