// SQL-looking strings in every text field are stored and returned verbatim (all queries are
// parameterised), and lookups with them find nothing instead of failing or matching everything.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stopTestPostgres } from '../support/postgres';
import { type Harness, harness } from './admin-harness.test';

let h: Harness;
before(async () => {
  h = await harness('admin_bad_input');
});
after(async () => {
  await h.close();
  await stopTestPostgres();
});

/** A different hostile string per field, so a value landing in the wrong column shows. */
const evil = (tag: string) => `${tag}'); DROP TABLE "LiteLLM_UserTable"; -- \\ $1 " ' OR '1'='1 ; ☃`;

async function tablesIntact() {
  const rows = await h.rows(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('LiteLLM_UserTable', 'LiteLLM_VerificationToken', 'LiteLLM_TeamTable', 'LiteLLM_BudgetTable')`);
  assert.equal(rows[0].n, 4);
}

test('budget, organization, team, user, customer and key: every text field verbatim', async () => {
  const budget = await h.ok('POST', '/budget/new', { budget_id: evil('budget_id') });
  assert.equal(budget.budget_id, evil('budget_id'));

  const org = await h.ok('POST', '/organization/new', { organization_id: evil('org_id'), organization_alias: evil('org_alias'), models: [evil('org_model')], metadata: { [evil('mk')]: evil('mv') } });
  assert.equal(org.organization_id, evil('org_id'));
  assert.equal(org.organization_alias, evil('org_alias'));
  const orgRow = (await h.rows(`SELECT * FROM "LiteLLM_OrganizationTable" WHERE organization_id = $1`, [evil('org_id')]))[0];
  assert.equal(orgRow.organization_alias, evil('org_alias'));
  assert.deepEqual(orgRow.models, [evil('org_model')]);
  assert.deepEqual(orgRow.metadata, { [evil('mk')]: evil('mv') });

  const team = await h.ok('POST', '/team/new', {
    team_id: evil('team_id'),
    team_alias: evil('team_alias'),
    organization_id: evil('org_id'),
    admins: [evil('admin')],
    members: [evil('member')],
    models: [evil('team_model')],
    tags: [evil('tag')],
    members_with_roles: [{ role: 'user', user_id: evil('member_uid'), user_email: evil('member_email') }],
  });
  assert.equal(team.team_alias, evil('team_alias'));
  const teamRow = (await h.rows(`SELECT * FROM "LiteLLM_TeamTable" WHERE team_id = $1`, [evil('team_id')]))[0];
  assert.equal(teamRow.team_alias, evil('team_alias'));
  assert.equal(teamRow.organization_id, evil('org_id'));
  assert.deepEqual(teamRow.admins, [evil('admin')]);
  assert.deepEqual(teamRow.members, [evil('member')]);
  assert.deepEqual(teamRow.models, [evil('team_model')]);
  assert.deepEqual(teamRow.metadata.tags, [evil('tag')]);
  assert.deepEqual(teamRow.members_with_roles, [{ role: 'user', user_id: evil('member_uid'), user_email: evil('member_email') }]);
  const memberRow = (await h.rows(`SELECT * FROM "LiteLLM_UserTable" WHERE user_id = $1`, [evil('member_uid')]))[0];
  assert.equal(memberRow.user_email, evil('member_email'));
  assert.deepEqual(memberRow.teams, [evil('team_id')]);

  const user = await h.ok('POST', '/user/new', { user_id: evil('user_id'), user_email: evil('user_email'), user_alias: evil('user_alias'), models: [evil('user_model')], key_alias: evil('user_key_alias'), teams: [evil('team_id')] });
  assert.equal(user.user_id, evil('user_id'));
  assert.equal(user.user_alias, evil('user_alias'));
  assert.equal(user.key_alias, evil('user_key_alias'));
  const userRow = (await h.rows(`SELECT * FROM "LiteLLM_UserTable" WHERE user_id = $1`, [evil('user_id')]))[0];
  assert.equal(userRow.user_email, evil('user_email'));
  assert.equal(userRow.user_alias, evil('user_alias'));
  assert.deepEqual(userRow.models, [evil('user_model')]);

  const cust = await h.ok('POST', '/customer/new', { user_id: evil('cust_id'), alias: evil('cust_alias'), default_model: evil('cust_model'), budget_id: evil('budget_id') });
  assert.equal(cust.alias, evil('cust_alias'));
  const custRow = (await h.rows(`SELECT * FROM "LiteLLM_EndUserTable" WHERE user_id = $1`, [evil('cust_id')]))[0];
  assert.deepEqual([custRow.alias, custRow.default_model, custRow.budget_id], [evil('cust_alias'), evil('cust_model'), evil('budget_id')]);

  const rawKey = `sk-${evil('key')}`;
  const key = await h.ok('POST', '/key/generate', {
    key: rawKey,
    key_alias: evil('key_alias'),
    user_id: evil('user_id'),
    team_id: evil('team_id'),
    organization_id: evil('org_id'),
    budget_id: evil('budget_id'),
    agent_id: evil('agent'),
    project_id: evil('project'),
    models: [evil('key_model')],
    allowed_cache_controls: [evil('cc')],
    allowed_routes: [evil('route')],
    access_group_ids: [evil('ag')],
    policies: [evil('policy')],
    tags: [evil('key_tag')],
    guardrails: [evil('guard')],
    metadata: { note: evil('note') },
    aliases: { [evil('alias_from')]: evil('alias_to') },
  });
  assert.equal(key.key, rawKey);
  assert.equal(key.key_alias, evil('key_alias'));
  const keyRow = (await h.rows(`SELECT * FROM "LiteLLM_VerificationToken" WHERE key_alias = $1`, [evil('key_alias')]))[0];
  assert.equal(keyRow.token, key.token);
  for (const [col, v] of [['user_id', 'user_id'], ['team_id', 'team_id'], ['organization_id', 'org_id'], ['budget_id', 'budget_id'], ['agent_id', 'agent'], ['project_id', 'project']])
    assert.equal(keyRow[col], evil(v), col);
  assert.deepEqual(keyRow.models, [evil('key_model')]);
  assert.deepEqual(keyRow.allowed_cache_controls, [evil('cc')]);
  assert.deepEqual(keyRow.allowed_routes, [evil('route')]);
  assert.deepEqual(keyRow.access_group_ids, [evil('ag')]);
  assert.deepEqual(keyRow.policies, [evil('policy')]);
  assert.deepEqual(keyRow.metadata, { note: evil('note'), tags: [evil('key_tag')], guardrails: [evil('guard')] });
  assert.deepEqual(keyRow.aliases, { [evil('alias_from')]: evil('alias_to') });

  // and read back through the API
  const info = await h.ok('GET', `/key/info?key=${encodeURIComponent(rawKey)}`);
  assert.equal(info.info.key_alias, evil('key_alias'));
  const list = await h.ok('GET', `/key/list?key_alias=${encodeURIComponent(evil('key_alias'))}&return_full_object=true`);
  assert.equal(list.keys[0].key_alias, evil('key_alias'));
  assert.equal((await h.ok('GET', `/team/info?team_id=${encodeURIComponent(evil('team_id'))}`)).team_info.team_alias, evil('team_alias'));
  assert.equal((await h.ok('GET', `/user/info?user_id=${encodeURIComponent(evil('user_id'))}`)).user_info.user_alias, evil('user_alias'));
  assert.equal((await h.ok('GET', `/customer/info?end_user_id=${encodeURIComponent(evil('cust_id'))}`)).alias, evil('cust_alias'));

  // updates too
  const up = await h.ok('POST', '/key/update', { key: rawKey, key_alias: evil('key_alias2'), models: [evil('m2')] });
  assert.equal(up.key_alias, evil('key_alias2'));
  await h.ok('POST', '/team/update', { team_id: evil('team_id'), team_alias: evil('team_alias2') });
  assert.equal((await h.rows(`SELECT team_alias FROM "LiteLLM_TeamTable" WHERE team_id = $1`, [evil('team_id')]))[0].team_alias, evil('team_alias2'));
  await h.ok('POST', '/user/update', { user_id: evil('user_id'), user_alias: evil('user_alias2') });
  await h.ok('POST', '/customer/update', { user_id: evil('cust_id'), alias: evil('cust_alias2') });
  await h.ok('POST', '/organization/update', { organization_id: evil('org_id'), organization_alias: evil('org_alias2') });
  await h.ok('POST', '/team/member_add', { team_id: evil('team_id'), member: { role: 'admin', user_email: evil('new_member_email') } });
  assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_UserTable" WHERE user_email = $1`, [evil('new_member_email')]))[0].n, 1);
  await tablesIntact();
});

test('lookups with SQL-looking values find nothing (and never everything)', async () => {
  const s = encodeURIComponent(`x' OR '1'='1`);
  await h.fail(404, 'GET', `/key/info?key=${s}`);
  await h.fail(404, 'GET', `/team/info?team_id=${s}`);
  await h.fail(404, 'GET', `/user/info?user_id=${s}`);
  await h.fail(404, 'GET', `/customer/info?end_user_id=${s}`);
  await h.fail(404, 'GET', `/organization/info?organization_id=${s}`);
  const list = await h.ok('GET', `/key/list?user_id=${s}&team_id=${s}`);
  assert.deepEqual(list.keys, []);
  assert.deepEqual((await h.ok('GET', `/key/list?key_alias=${s}`)).keys, []);
  assert.deepEqual(await h.ok('GET', `/spend/logs?user_id=${s}`), []);
  assert.deepEqual((await h.ok('GET', `/user/list?user_ids=${s}`)).users, []);
  assert.deepEqual((await h.ok('GET', `/user/daily/activity?start_date=2025-01-01&end_date=2025-12-31&user_id=${s}`)).results, []);
  await h.fail(400, 'GET', `/key/list?sort_by=${encodeURIComponent('created_at; DROP TABLE x')}`);
  await h.fail(400, 'GET', `/key/list?sort_order=${encodeURIComponent('desc; DROP TABLE x')}`);
  await h.fail(404, 'POST', '/key/delete', { key_aliases: [`x' OR '1'='1`] });
  await h.fail(404, 'POST', '/team/delete', { team_ids: [`x' OR '1'='1`] });
  await h.fail(404, 'POST', '/user/delete', { user_ids: [`x' OR '1'='1`] });
  await h.fail(404, 'POST', '/budget/delete', { id: `x' OR '1'='1` });
  assert.ok((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken"`))[0].n >= 1);
  await tablesIntact();
});

test('wrong types are 422 on every entity, with the field named', async () => {
  for (const [path, body, param] of [
    ['/key/generate', { tpm_limit: '100' }, 'tpm_limit'],
    ['/key/update', { key: 5 }, 'key'],
    ['/team/new', { blocked: 'no' }, 'blocked'],
    ['/team/member_add', { team_id: 't', member: 'bob' }, 'member'],
    ['/user/new', { teams: 'a,b' }, 'teams'],
    ['/user/update', { user_id: 'x', max_budget: {} }, 'max_budget'],
    ['/customer/new', { user_id: 'x', blocked: 1 }, 'blocked'],
    ['/customer/delete', { user_ids: 'x' }, 'user_ids'],
    ['/budget/new', { rpm_limit: [] }, 'rpm_limit'],
    ['/budget/info', { budgets: 'b' }, 'budgets'],
    ['/organization/new', { organization_alias: 'x', models: {} }, 'models'],
    ['/organization/member_add', { organization_id: 'o', member: [{ role: 'internal_user', user_id: 1 }] }, 'member'],
  ] as const) {
    const e = await h.fail(422, 'POST', path, body);
    assert.ok(e.param?.startsWith(param), `${path}: param ${e.param}, expected ${param}`);
  }
});

test('negative budgets, malformed durations and oversized metadata are 400 on every entity', async () => {
  const huge = { blob: 'x'.repeat(64 * 1024 + 1) };
  for (const [path, body, param] of [
    ['/team/new', { soft_budget: -1 }, 'soft_budget'],
    ['/team/new', { team_member_budget_duration: '1 day' }, 'team_member_budget_duration'],
    ['/team/new', { metadata: huge }, 'metadata'],
    ['/user/new', { max_budget: -5 }, 'max_budget'],
    ['/user/new', { metadata: huge }, 'metadata'],
    ['/customer/new', { user_id: 'n', soft_budget: -1 }, 'soft_budget'],
    ['/customer/new', { user_id: 'n', model_max_budget: huge }, 'model_max_budget'],
    ['/budget/new', { budget_duration: '1y' }, 'budget_duration'],
    ['/budget/new', { model_max_budget: huge }, 'model_max_budget'],
    ['/organization/new', { organization_alias: 'n', max_budget: -1 }, 'max_budget'],
    ['/organization/new', { organization_alias: 'n', metadata: huge }, 'metadata'],
    ['/key/generate', { config: huge }, 'config'],
    ['/key/generate', { permissions: huge }, 'permissions'],
    ['/team/member_update', { team_id: 't', user_id: 'u', max_budget_in_team: -1 }, 'max_budget_in_team'],
  ] as const) {
    const e = await h.fail(400, 'POST', path, body);
    assert.equal(e.param, param, path);
  }
});

test('money past 1e9 USD (1e308, Infinity from JSON 1e400) and limits past Int32 are 400 on every route that takes them, with the field named', async () => {
  const key = await h.ok('POST', '/key/generate', {});
  const team = await h.ok('POST', '/team/new', {});
  await h.ok('POST', '/user/new', { user_id: 'range-user' });
  await h.ok('POST', '/customer/new', { user_id: 'range-customer' });
  await h.ok('POST', '/budget/new', { budget_id: 'range-budget' });
  const org = await h.ok('POST', '/organization/new', { organization_alias: 'range-org' });
  const before = await h.rows(`SELECT (SELECT count(*) FROM "LiteLLM_VerificationToken") AS k, (SELECT count(*) FROM "LiteLLM_BudgetTable") AS b, (SELECT count(*) FROM "LiteLLM_TeamTable") AS t`);
  const huge = 1e308;
  const int32 = 2 ** 31;
  for (const [path, body, param] of [
    ['/key/generate', { max_budget: huge }, 'max_budget'],
    ['/key/generate', { max_budget: Infinity }, 'max_budget'],
    ['/key/generate', { max_budget: 1e10 }, 'max_budget'],
    ['/key/generate', { soft_budget: huge }, 'soft_budget'],
    ['/key/generate', { spend: huge }, 'spend'],
    ['/key/generate', { rpm_limit: int32 }, 'rpm_limit'],
    ['/key/generate', { tpm_limit: 1e10 }, 'tpm_limit'],
    ['/key/generate', { max_parallel_requests: int32 }, 'max_parallel_requests'],
    ['/key/generate', { model_rpm_limit: { gpt: 1e10 } }, 'model_rpm_limit.gpt'],
    ['/key/generate', { model_max_budget: { gpt: { budget_limit: huge, time_period: '1d' } } }, 'model_max_budget.gpt.budget_limit'],
    ['/key/generate', { model_max_budget: { gpt: { max_budget: Infinity } } }, 'model_max_budget.gpt.max_budget'],
    ['/key/generate', { model_max_budget: { gpt: { rpm_limit: int32 } } }, 'model_max_budget.gpt.rpm_limit'],
    ['/key/service-account/generate', { team_id: team.team_id, max_budget: huge }, 'max_budget'],
    ['/key/update', { key: key.key, max_budget: huge }, 'max_budget'],
    ['/key/update', { key: key.key, temp_budget_increase: huge, temp_budget_expiry: '2999-01-01T00:00:00Z' }, 'temp_budget_increase'],
    ['/key/regenerate', { key: key.key, max_budget: huge }, 'max_budget'],
    ['/team/new', { max_budget: huge }, 'max_budget'],
    ['/team/new', { team_member_budget: huge }, 'team_member_budget'],
    ['/team/new', { team_member_rpm_limit: int32 }, 'team_member_rpm_limit'],
    ['/team/update', { team_id: team.team_id, max_budget: huge }, 'max_budget'],
    ['/team/update', { team_id: team.team_id, tpm_limit: int32 }, 'tpm_limit'],
    ['/team/member_add', { team_id: team.team_id, member: { user_id: 'range-user', role: 'user' }, max_budget_in_team: huge }, 'max_budget_in_team'],
    ['/team/member_update', { team_id: team.team_id, user_id: 'range-user', max_budget_in_team: huge }, 'max_budget_in_team'],
    ['/user/new', { max_budget: huge }, 'max_budget'],
    ['/user/update', { user_id: 'range-user', max_budget: huge }, 'max_budget'],
    ['/user/update', { user_id: 'range-user', rpm_limit: int32 }, 'rpm_limit'],
    ['/customer/new', { user_id: 'range-c2', max_budget: huge }, 'max_budget'],
    ['/customer/update', { user_id: 'range-customer', max_budget: huge }, 'max_budget'],
    ['/end_user/new', { user_id: 'range-c3', soft_budget: huge }, 'soft_budget'],
    ['/budget/new', { max_budget: huge }, 'max_budget'],
    ['/budget/new', { model_max_budget: { gpt: { budget_limit: huge } } }, 'model_max_budget.gpt.budget_limit'],
    ['/budget/update', { budget_id: 'range-budget', max_budget: huge }, 'max_budget'],
    ['/organization/new', { organization_alias: 'o2', max_budget: huge }, 'max_budget'],
    ['/organization/update', { organization_id: org.organization_id, spend: huge }, 'spend'],
    ['/organization/update', { organization_id: org.organization_id, max_parallel_requests: int32 }, 'max_parallel_requests'],
    ['/organization/member_add', { organization_id: org.organization_id, member: [{ role: 'internal_user', user_id: 'range-user' }], max_budget_in_organization: huge }, 'max_budget_in_organization'],
  ] as const) {
    const e = await h.fail(400, 'POST', path, body);
    assert.equal(e.param, param, `${path} ${JSON.stringify(body)}`);
    assert.equal(e.type, 'bad_request_error');
    assert.match(e.message, param.includes('rpm') || param.includes('tpm') || param.includes('parallel') ? /at most 2147483647/ : /at most 1e9 USD/, path);
  }
  // Nothing was written by the refused calls.
  assert.deepEqual(await h.rows(`SELECT (SELECT count(*) FROM "LiteLLM_VerificationToken") AS k, (SELECT count(*) FROM "LiteLLM_BudgetTable") AS b, (SELECT count(*) FROM "LiteLLM_TeamTable") AS t`), before);
  // The maximum itself is accepted.
  const k = await h.ok('POST', '/key/generate', { max_budget: 1e9, rpm_limit: 2 ** 31 - 1, tpm_limit: 2 ** 31 - 1, model_max_budget: { gpt: { budget_limit: 1e9, time_period: '1d' } } });
  assert.equal(k.max_budget, 1e9);
});
