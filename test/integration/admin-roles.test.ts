// LiteLLM's roles on the management API: for each role, each route family allowed or refused
// (403 in the OpenAI envelope); the lists a non-admin reads filtered in SQL to its own rows and its
// teams'; and refused changes leaving the database as it was. Callers are virtual keys of users of
// each role, as the worker relays them (the key's hash, its user's role and id).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stopTestPostgres } from '../support/postgres';
import type { Caller } from '../../src/admin/types';
import { type Harness, MASTER, harness, keyCaller } from './admin-harness.test';

let h: Harness;

/** The users, each with a key to call with: iu / iu2 internal users, iuv an internal viewer
 *  (plain member of team tA), pav an admin viewer, ta the admin of tA, tm a plain member of tA,
 *  cust a user whose role is none of the management roles. iu2 is the admin of team tB. */
const USERS: Record<string, string> = {
  iu: 'internal_user',
  iu2: 'internal_user',
  iuv: 'internal_user_viewer',
  pav: 'proxy_admin_viewer',
  ta: 'internal_user',
  tm: 'internal_user',
  cust: 'customer',
};
const callers: Record<string, Caller> = { admin: MASTER };
const keyOf: Record<string, { key: string; token: string }> = {};

let seq = 0;
/** A fresh key made by the master key, with these fields. */
const makeKey = (fields: Record<string, unknown>) => h.ok('POST', '/key/generate', { key_alias: `k${++seq}`, ...fields });

async function log(id: string, fields: Record<string, unknown>) {
  const row = { request_id: id, call_type: 'acompletion', api_key: 'x', spend: 1, startTime: '2025-03-11T10:00:00Z', endTime: '2025-03-11T10:00:00Z', model: 'gpt-4o', user: '', ...fields };
  const cols = Object.keys(row);
  await h.rows(`INSERT INTO "LiteLLM_SpendLogs" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
}

async function daily(table: string, entityCol: string, entity: string) {
  await h.rows(
    `INSERT INTO "${table}" (id, ${entityCol}, date, api_key, model, model_group, custom_llm_provider, prompt_tokens, completion_tokens, spend, api_requests, successful_requests, failed_requests, updated_at)
     VALUES (gen_random_uuid()::text, $1, '2025-03-11', 'x', 'gpt-4o', 'gpt-4o', 'openai', 10, 5, 1, 1, 1, 0, now())`,
    [entity],
  );
}

before(async () => {
  h = await harness('admin_roles');
  for (const [id, role] of Object.entries(USERS)) {
    await h.ok('POST', '/user/new', { user_id: id, user_role: role, auto_create_key: false });
    keyOf[id] = await makeKey({ user_id: id });
    callers[id] = keyCaller(keyOf[id]!.key, role, id);
  }
  await h.ok('POST', '/team/new', { team_id: 'tA', members_with_roles: [{ user_id: 'ta', role: 'admin' }, { user_id: 'tm', role: 'user' }, { user_id: 'iuv', role: 'user' }] });
  await h.ok('POST', '/team/new', { team_id: 'tB', members_with_roles: [{ user_id: 'iu2', role: 'admin' }] });
  await log('iu-1', { user: 'iu' });
  await log('iu2-1', { user: 'iu2', team_id: 'tB' });
  await log('tm-1', { user: 'tm', team_id: 'tA' });
  await log('ta-1', { user: 'ta' });
  for (const u of ['iu', 'iu2', 'ta', 'tm']) await daily('LiteLLM_DailyUserSpend', 'user_id', u);
  for (const t of ['tA', 'tB']) await daily('LiteLLM_DailyTeamSpend', 'team_id', t);
});
after(async () => {
  await h.close();
  await stopTestPostgres();
});

// ---- the matrix ------------------------------------------------------------------------------------

type Who = 'admin' | 'pav' | 'iu' | 'iuv' | 'ta' | 'cust';
const WHO: Who[] = ['admin', 'pav', 'iu', 'iuv', 'ta', 'cust'];
/** The user each caller acts on when a route needs one (the master key acts on iu's). */
const self = (w: Who) => (w === 'admin' ? 'iu' : w);
const DATES = 'start_date=2025-03-01&end_date=2025-03-31';

interface Family {
  name: string;
  /** The callers answered 200; every other one gets 403. */
  allowed: Who[];
  /** The request each caller makes: on its own rows, so the only reason to refuse is the role. */
  request(w: Who): Promise<[string, string, unknown?]>;
}

const everyoneButNone: Who[] = ['admin', 'pav', 'iu', 'iuv', 'ta'];
const changers: Who[] = ['admin', 'iu', 'ta'];
const admins: Who[] = ['admin'];
const readers: Who[] = ['admin', 'pav'];

const FAMILIES: Family[] = [
  { name: 'create own key', allowed: changers, request: async (w) => ['POST', '/key/generate', { user_id: self(w) }] },
  { name: 'update own key', allowed: changers, request: async (w) => ['POST', '/key/update', { key: (await makeKey({ user_id: self(w) })).key, key_alias: `upd-${++seq}` }] },
  { name: 'delete own key', allowed: changers, request: async (w) => ['POST', '/key/delete', { keys: [(await makeKey({ user_id: self(w) })).key] }] },
  { name: 'regenerate own key', allowed: changers, request: async (w) => ['POST', '/key/regenerate', { key: (await makeKey({ user_id: self(w) })).key }] },
  { name: 'block own key', allowed: changers, request: async (w) => ['POST', '/key/block', { key: (await makeKey({ user_id: self(w) })).key }] },
  { name: 'list keys', allowed: everyoneButNone, request: async () => ['GET', '/key/list'] },
  { name: 'read own key', allowed: everyoneButNone, request: async (w) => ['GET', `/key/info?key=${(await makeKey({ user_id: self(w) })).token}`] },
  { name: 'read own keys (v2)', allowed: everyoneButNone, request: async (w) => ['POST', '/v2/key/info', { keys: [(await makeKey({ user_id: self(w) })).token] }] },
  { name: 'create team', allowed: admins, request: async () => ['POST', '/team/new', { team_alias: `t${++seq}` }] },
  { name: 'update team', allowed: admins, request: async () => ['POST', '/team/update', { team_id: 'tA', team_alias: `Team A ${++seq}` }] },
  { name: 'block team', allowed: admins, request: async () => ['POST', '/team/block', { team_id: (await h.ok('POST', '/team/new', {})).team_id }] },
  { name: 'add a member to tA', allowed: ['admin', 'ta'], request: async () => ['POST', '/team/member_add', { team_id: 'tA', member: { user_id: `new-${++seq}`, role: 'user' } }] },
  { name: 'read team tA', allowed: ['admin', 'pav', 'iuv', 'ta'], request: async () => ['GET', '/team/info?team_id=tA'] },
  { name: 'list teams', allowed: everyoneButNone, request: async () => ['GET', '/team/list'] },
  { name: 'create user', allowed: admins, request: async () => ['POST', '/user/new', { auto_create_key: false }] },
  { name: 'update user', allowed: admins, request: async (w) => ['POST', '/user/update', { user_id: self(w), max_budget: 100 }] },
  { name: 'read own user', allowed: everyoneButNone, request: async (w) => ['GET', `/user/info?user_id=${self(w)}`] },
  { name: 'list users', allowed: readers, request: async () => ['GET', '/user/list'] },
  { name: 'spend logs', allowed: everyoneButNone, request: async () => ['GET', '/spend/logs'] },
  { name: 'user daily activity', allowed: everyoneButNone, request: async () => ['GET', `/user/daily/activity?${DATES}`] },
  { name: 'team daily activity', allowed: everyoneButNone, request: async () => ['GET', `/team/daily/activity?${DATES}`] },
  { name: 'global spend', allowed: readers, request: async () => ['GET', '/global/spend/keys'] },
  { name: 'customers', allowed: readers, request: async () => ['GET', '/customer/list'] },
  { name: 'create budget', allowed: admins, request: async () => ['POST', '/budget/new', {}] },
  { name: 'list budgets', allowed: readers, request: async () => ['GET', '/budget/list'] },
  { name: 'organizations', allowed: readers, request: async () => ['GET', '/organization/list'] },
];

test('each role × each route family: allowed, or 403 in the OpenAI envelope', async () => {
  const got: string[] = [];
  const want: string[] = [];
  for (const f of FAMILIES) {
    for (const w of WHO) {
      const [method, path, body] = await f.request(w);
      const r = await h.call(method, path, body, { caller: callers[w] });
      got.push(`${f.name} / ${w}: ${r.status}`);
      want.push(`${f.name} / ${w}: ${f.allowed.includes(w) ? 200 : 403}`);
      if (r.status === 403) {
        const e = (r.body as { error: { type: string; code: string; message: string } }).error;
        assert.equal(e.type, 'auth_error');
        assert.equal(e.code, '403');
        assert.doesNotMatch(e.message, /sk-/, 'no key in an error message');
      } else if (r.status !== 200) {
        assert.fail(`${f.name} / ${w}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
  }
  assert.deepEqual(got, want);
});

test('a refusal by role says the route, the role and a masked user id, in LiteLLM\'s words', async () => {
  const e = await h.fail(403, 'POST', '/team/new', {}, { caller: callers.iu });
  assert.equal(e.message, 'Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route=/team/new. Your role=internal_user. Your user_id=***');
  const v = await h.fail(403, 'POST', '/key/generate', {}, { caller: callers.pav });
  assert.equal(v.message, 'user not allowed to access this route, role= proxy_admin_viewer. Trying to access: /key/generate');
  await h.ok('POST', '/user/new', { user_id: 'a-long-user-id', user_role: 'customer', auto_create_key: false });
  const k = await makeKey({ user_id: 'a-long-user-id' });
  const c = await h.fail(403, 'GET', '/key/list', undefined, { caller: keyCaller(k.key, 'customer', 'a-long-user-id') });
  assert.match(c.message, /Your role=customer\. Your user_id=a-long\*+id$/);
});

// ---- what each one sees --------------------------------------------------------------------------

const aliases = (r: { keys: Array<{ key_alias: string }> }) => r.keys.map((k) => k.key_alias).sort();

test('/key/list: an internal user sees its own keys, a team admin also its team\'s; counts and pages follow', async () => {
  const mine = await makeKey({ key_alias: 'iu-list', user_id: 'iu' });
  await makeKey({ key_alias: 'iu2-list', user_id: 'iu2' });
  await makeKey({ key_alias: 'tA-list', team_id: 'tA', user_id: 'tm' });
  await makeKey({ key_alias: 'tB-list', team_id: 'tB', user_id: 'iu2' });
  const iu = await h.ok('GET', '/key/list?return_full_object=true&size=100', undefined, { caller: callers.iu });
  assert.ok(iu.keys.every((k: { user_id: string }) => k.user_id === 'iu'), JSON.stringify(aliases(iu)));
  assert.ok(aliases(iu).includes('iu-list'));
  const total = (await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken" WHERE user_id = 'iu'`))[0].n;
  assert.equal(iu.total_count, total);
  // one page of one: the total is still the caller's own count, and the page holds one of its keys
  const page = await h.ok('GET', '/key/list?size=1&page=1', undefined, { caller: callers.iu });
  assert.equal(page.total_count, total);
  assert.equal(page.total_pages, total);
  assert.equal(page.keys.length, 1);
  // a filter for someone else's keys finds none
  assert.equal((await h.ok('GET', '/key/list?user_id=iu2', undefined, { caller: callers.iu })).total_count, 0);
  assert.equal((await h.ok('GET', `/key/list?key_hash=${mine.token}`, undefined, { caller: callers.iu })).total_count, 1);

  const ta = await h.ok('GET', '/key/list?return_full_object=true&size=100', undefined, { caller: callers.ta });
  assert.ok(aliases(ta).includes('tA-list'));
  assert.ok(ta.keys.every((k: { user_id: string; team_id: string }) => k.user_id === 'ta' || k.team_id === 'tA'));
  assert.ok(!aliases(ta).includes('tB-list') && !aliases(ta).includes('iu-list'));
  // the plain member of tA sees its own key of tA, not the team's other keys
  await makeKey({ key_alias: 'tA-ta', team_id: 'tA', user_id: 'ta' });
  const tm = await h.ok('GET', '/key/list?return_full_object=true&size=100', undefined, { caller: callers.tm });
  assert.ok(aliases(tm).includes('tA-list') && !aliases(tm).includes('tA-ta'));
  // the admin viewer sees every key
  const all = (await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken"`))[0].n;
  assert.equal((await h.ok('GET', '/key/list', undefined, { caller: callers.pav })).total_count, all);
});

test('/key/info and /v2/key/info: own keys and the team admin\'s team keys; others 403 or left out', async () => {
  const other = await makeKey({ user_id: 'iu2' });
  const teamKey = await makeKey({ team_id: 'tA', user_id: 'tm' });
  const e = await h.fail(403, 'GET', `/key/info?key=${other.token}`, undefined, { caller: callers.iu });
  assert.equal(e.type, 'auth_error');
  // a key that does not exist is refused the same way (nothing learnt about which keys exist)
  await h.fail(403, 'GET', `/key/info?key=${'0'.repeat(64)}`, undefined, { caller: callers.iu });
  assert.equal((await h.ok('GET', `/key/info?key=${teamKey.token}`, undefined, { caller: callers.ta })).info.team_id, 'tA');
  await h.fail(403, 'GET', `/key/info?key=${teamKey.token}`, undefined, { caller: callers.iu2 });
  // the key it calls with, with no key named
  assert.equal((await h.ok('GET', '/key/info', undefined, { caller: callers.cust })).key, keyOf.cust!.token);
  const mine = await makeKey({ user_id: 'iu' });
  const v2 = await h.ok('POST', '/v2/key/info', { keys: [mine.token, other.token] }, { caller: callers.iu });
  assert.deepEqual(v2.info.map((r: { user_id: string }) => r.user_id), ['iu']);
  await h.fail(404, 'POST', '/v2/key/info', { keys: [other.token] }, { caller: callers.iu });
});

test('/team/list and /team/info: the teams a user is a member of; a plain member sees only its own keys of the team', async () => {
  const ids = (r: Array<{ team_id: string }>) => r.map((t) => t.team_id).sort();
  assert.deepEqual(ids(await h.ok('GET', '/team/list', undefined, { caller: callers.iu })), []);
  assert.deepEqual(ids(await h.ok('GET', '/team/list', undefined, { caller: callers.iu2 })), ['tB']);
  assert.deepEqual(ids(await h.ok('GET', '/team/list', undefined, { caller: callers.tm })), ['tA']);
  assert.ok(ids(await h.ok('GET', '/team/list', undefined, { caller: callers.pav })).length >= 2);
  await makeKey({ team_id: 'tA', user_id: 'ta', key_alias: 'ta-in-tA' });
  const asMember = await h.ok('GET', '/team/info?team_id=tA', undefined, { caller: callers.tm });
  assert.ok(asMember.keys.every((k: { user_id: string }) => k.user_id === 'tm'));
  const asAdmin = await h.ok('GET', '/team/info?team_id=tA', undefined, { caller: callers.ta });
  assert.ok(asAdmin.keys.some((k: { key_alias: string }) => k.key_alias === 'ta-in-tA'));
  const listed = (await h.ok('GET', '/team/list', undefined, { caller: callers.tm }))[0];
  assert.ok(listed.keys.every((k: { user_id: string }) => k.user_id === 'tm'));
  await h.fail(403, 'GET', '/team/info?team_id=tB', undefined, { caller: callers.ta });
});

test('/user/info: an internal user reads itself (also with no user_id), not another user', async () => {
  assert.equal((await h.ok('GET', '/user/info', undefined, { caller: callers.iu })).user_id, 'iu');
  const e = await h.fail(403, 'GET', '/user/info?user_id=iu2', undefined, { caller: callers.iu });
  assert.equal(e.message, "key not allowed to access this user's info. user_id=iu2, key's user_id=iu");
  assert.equal((await h.ok('GET', '/user/info?user_id=iu2', undefined, { caller: callers.pav })).user_id, 'iu2');
});

test('/spend/logs: a user\'s own rows, plus its teams\' for a team admin; a team_id filter narrows', async () => {
  const ids = (r: Array<{ request_id: string }>) => r.map((x) => x.request_id).sort();
  assert.deepEqual(ids(await h.ok('GET', '/spend/logs', undefined, { caller: callers.iu })), ['iu-1']);
  assert.deepEqual(ids(await h.ok('GET', '/spend/logs?user_id=iu2', undefined, { caller: callers.iu })), []);
  assert.deepEqual(ids(await h.ok('GET', '/spend/logs', undefined, { caller: callers.ta })), ['ta-1', 'tm-1']);
  assert.deepEqual(ids(await h.ok('GET', '/spend/logs?team_id=tA', undefined, { caller: callers.ta })), ['tm-1']);
  assert.deepEqual(ids(await h.ok('GET', '/spend/logs?request_id=iu2-1', undefined, { caller: callers.iu })), []);
  const raw = await h.ok('GET', `/spend/logs?${DATES}&summarize=false`, undefined, { caller: callers.iu2 });
  assert.deepEqual(ids(raw), ['iu2-1']);
  assert.deepEqual(ids(await h.ok('GET', '/spend/logs', undefined, { caller: callers.pav })), ['iu-1', 'iu2-1', 'ta-1', 'tm-1']);
});

test('daily activity: users see their own, team admins their teams\'; asking for others is 403', async () => {
  const entities = (r: any) => Object.keys(r.results[0]?.breakdown.entities ?? {}).sort();
  assert.deepEqual(entities(await h.ok('GET', `/user/daily/activity?${DATES}`, undefined, { caller: callers.iu })), ['iu']);
  await h.fail(403, 'GET', `/user/daily/activity?${DATES}&user_id=iu2`, undefined, { caller: callers.iu });
  assert.deepEqual(entities(await h.ok('GET', `/user/daily/activity?${DATES}&user_id=iu`, undefined, { caller: callers.iu })), ['iu']);
  assert.deepEqual(entities(await h.ok('GET', `/team/daily/activity?${DATES}`, undefined, { caller: callers.ta })), ['tA']);
  assert.deepEqual(entities(await h.ok('GET', `/team/daily/activity?${DATES}`, undefined, { caller: callers.iu })), []);
  await h.fail(403, 'GET', `/team/daily/activity?${DATES}&team_ids=tB`, undefined, { caller: callers.ta });
  await h.fail(403, 'GET', `/team/daily/activity?${DATES}&team_ids=tA`, undefined, { caller: callers.tm });
  assert.deepEqual(entities(await h.ok('GET', `/team/daily/activity?${DATES}`, undefined, { caller: callers.pav })), ['tA', 'tB']);
});

// ---- changes -----------------------------------------------------------------------------------------

test('/key/generate by an internal user: the key is its own; another user\'s id, a team it is not in, a pass-through grant are refused', async () => {
  const made = await h.ok('POST', '/key/generate', { key_alias: 'iu-made' }, { caller: callers.iu });
  assert.equal(made.user_id, 'iu');
  assert.equal((await h.rows(`SELECT user_id, created_by FROM "LiteLLM_VerificationToken" WHERE key_alias = 'iu-made'`))[0].user_id, 'iu');
  const count = async () => (await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken"`))[0].n;
  const n = await count();
  const e = await h.fail(403, 'POST', '/key/generate', { user_id: 'iu2' }, { caller: callers.iu });
  assert.equal(e.message, 'User can only create keys for themselves. Got user_id=iu2, Your ID=iu');
  assert.equal((await h.fail(403, 'POST', '/key/generate', { team_id: 'tB' }, { caller: callers.iu })).message, 'User=iu not assigned to team=tB');
  await h.fail(403, 'POST', '/key/generate', { allowed_passthrough_routes: ['/openai/v1/files'] }, { caller: callers.iu });
  await h.fail(403, 'POST', '/key/generate', { metadata: { allowed_passthrough_routes: ['/openai'] } }, { caller: callers.iu });
  await h.fail(403, 'POST', '/key/service-account/generate', { team_id: 'tB' }, { caller: callers.iu });
  // a key of no user with the internal_user role (no user id relayed) cannot own keys
  await h.fail(403, 'POST', '/key/generate', {}, { caller: keyCaller(keyOf.iu!.key, 'internal_user', null) });
  await h.fail(403, 'POST', '/key/generate', {}, { caller: callers.iuv });
  assert.equal(await count(), n);
});

test('team keys: a team admin makes them; a plain member only when the team\'s member permissions allow', async () => {
  const teamKey = await h.ok('POST', '/key/generate', { team_id: 'tA', key_alias: 'ta-team-key' }, { caller: callers.ta });
  assert.deepEqual([teamKey.team_id, teamKey.user_id], ['tA', 'ta']);
  const sa = await h.ok('POST', '/key/service-account/generate', { team_id: 'tA', key_alias: 'ta-sa' }, { caller: callers.ta });
  assert.deepEqual([sa.team_id, sa.user_id], ['tA', null]);
  const e = await h.fail(403, 'POST', '/key/generate', { team_id: 'tA' }, { caller: callers.tm });
  assert.match(e.message, /^Team member does not have permissions for endpoint: \/key\/generate\./);
  await h.ok('POST', '/team/update', { team_id: 'tA', team_member_permissions: ['/key/generate', '/key/update'] });
  const tmKey = await h.ok('POST', '/key/generate', { team_id: 'tA' }, { caller: callers.tm });
  assert.equal(tmKey.user_id, 'tm');
  await h.ok('POST', '/key/update', { key: tmKey.key, key_alias: 'tm-renamed' }, { caller: callers.tm });
  await h.fail(403, 'POST', '/key/delete', { keys: [tmKey.key] }, { caller: callers.tm });
  await h.ok('POST', '/team/update', { team_id: 'tA', team_member_permissions: [] });
  // the team admin manages every key of its team, not another team's
  await h.ok('POST', '/key/update', { key: tmKey.key, max_budget: 5 }, { caller: callers.ta });
  await h.ok('POST', '/key/block', { key: tmKey.key }, { caller: callers.ta });
  await h.ok('POST', '/key/unblock', { key: tmKey.key }, { caller: callers.ta });
  const rotated = await h.ok('POST', '/key/regenerate', { key: tmKey.key }, { caller: callers.ta });
  await h.ok('POST', '/key/delete', { keys: [rotated.key] }, { caller: callers.ta });
  const tB = await makeKey({ team_id: 'tB', user_id: 'iu2' });
  await h.fail(403, 'POST', '/key/update', { key: tB.key, max_budget: 1 }, { caller: callers.ta });
});

test('refused changes change nothing in the database', async () => {
  const snapshot = async () => ({
    keys: await h.rows(`SELECT * FROM "LiteLLM_VerificationToken" ORDER BY token`),
    teams: await h.rows(`SELECT team_id, members_with_roles, admins, members, team_member_permissions FROM "LiteLLM_TeamTable" ORDER BY team_id`),
    users: await h.rows(`SELECT user_id, teams, user_role FROM "LiteLLM_UserTable" ORDER BY user_id`),
    memberships: await h.rows(`SELECT * FROM "LiteLLM_TeamMembership" ORDER BY team_id, user_id`),
  });
  const theirs = await makeKey({ user_id: 'iu2', max_budget: 1 });
  const tBKey = await makeKey({ team_id: 'tB', user_id: 'iu2' });
  const blockedOwn = await makeKey({ user_id: 'iu', blocked: true });
  const own = await makeKey({ user_id: 'iu' });
  const ownInTeam = await makeKey({ team_id: 'tA', user_id: 'tm' });
  const changes = h.changes.length;
  const before = await snapshot();
  const refused: Array<[Caller, string, unknown]> = [
    [callers.iu!, '/key/update', { key: theirs.key, max_budget: 100 }],
    [callers.iu!, '/key/delete', { keys: [theirs.key] }],
    [callers.iu!, '/key/delete', { keys: [own.key, theirs.key] }],
    [callers.iu!, '/key/regenerate', { key: theirs.key }],
    [callers.iu!, '/key/block', { key: theirs.key }],
    [callers.iu!, '/key/unblock', { key: blockedOwn.key }],
    [callers.iu!, '/key/update', { key: blockedOwn.key, blocked: false }],
    [callers.iu!, '/key/update', { key: own.key, user_id: 'iu2' }],
    [callers.iu!, '/key/update', { key: own.key, team_id: 'tB' }],
    [callers.iu!, '/key/update', { key: own.key, allowed_passthrough_routes: ['/openai'] }],
    [callers.tm!, '/key/update', { key: ownInTeam.key, team_id: null }],
    [callers.tm!, '/key/delete', { keys: [ownInTeam.key] }],
    [callers.iuv!, '/key/update', { key: own.key, key_alias: 'viewer' }],
    [callers.pav!, '/key/delete', { keys: [own.key] }],
    [callers.ta!, '/key/delete', { keys: [tBKey.key] }],
    [callers.ta!, '/team/member_add', { team_id: 'tB', member: { user_id: 'ta', role: 'admin' } }],
    [callers.ta!, '/team/member_update', { team_id: 'tB', user_id: 'iu2', role: 'user' }],
    [callers.ta!, '/team/member_delete', { team_id: 'tB', user_id: 'iu2' }],
    [callers.tm!, '/team/member_add', { team_id: 'tA', member: { user_id: 'tm', role: 'admin' } }],
    [callers.tm!, '/team/member_update', { team_id: 'tA', user_id: 'tm', role: 'admin' }],
    [callers.iuv!, '/team/member_delete', { team_id: 'tA', user_id: 'tm' }],
    [callers.ta!, '/team/update', { team_id: 'tA', max_budget: 1000 }],
    [callers.ta!, '/team/delete', { team_ids: ['tA'] }],
    [callers.iu!, '/user/update', { user_id: 'iu', user_role: 'proxy_admin' }],
  ];
  for (const [caller, path, body] of refused) {
    const r = await h.call('POST', path, body, { caller });
    assert.equal(r.status, 403, `${path} ${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`);
  }
  assert.deepEqual(await snapshot(), before);
  assert.equal(h.changes.length, changes, 'no change was announced to the shared state');
});

test('a team admin manages its team\'s members', async () => {
  await h.ok('POST', '/team/member_add', { team_id: 'tA', member: { user_id: 'joiner', role: 'user' } }, { caller: callers.ta });
  await h.ok('POST', '/team/member_update', { team_id: 'tA', user_id: 'joiner', role: 'admin' }, { caller: callers.ta });
  const team = (await h.rows(`SELECT members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = 'tA'`))[0].members_with_roles;
  assert.deepEqual(team.find((m: { user_id: string }) => m.user_id === 'joiner')?.role, 'admin');
  await h.ok('POST', '/team/member_delete', { team_id: 'tA', user_id: 'joiner' }, { caller: callers.ta });
  const after = (await h.rows(`SELECT members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = 'tA'`))[0].members_with_roles;
  assert.equal(after.some((m: { user_id: string }) => m.user_id === 'joiner'), false);
});

test('a caller with a user and no key (a login session) is checked as its user, and recorded as it', async () => {
  const session: Caller = { isMasterKey: false, keyHash: null, userRole: 'internal_user', userId: 'iu', open: false };
  const made = await h.ok('POST', '/key/generate', { key_alias: 'from-session' }, { caller: session });
  assert.equal(made.user_id, 'iu');
  assert.deepEqual((await h.rows(`SELECT created_by FROM "LiteLLM_VerificationToken" WHERE key_alias = 'from-session'`))[0], { created_by: 'iu' });
  assert.ok((await h.ok('GET', '/key/list?return_full_object=true&size=100', undefined, { caller: session })).keys.every((k: { user_id: string }) => k.user_id === 'iu'));
  await h.fail(403, 'POST', '/team/new', {}, { caller: session });
  // with no key the caller reads no key as "itself"
  await h.fail(404, 'GET', '/key/info', undefined, { caller: session });
});
