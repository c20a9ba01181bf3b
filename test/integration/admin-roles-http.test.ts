// Roles through the real gateway (2 workers, PostgreSQL): the worker relays a virtual key's user
// and role to the control thread, so an internal user's key manages its own keys over HTTP and is
// refused the rest in LiteLLM's words. The full matrix runs on the handlers in admin-roles.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase, stopTestPostgres } from '../support/postgres';
import type { MockUpstream } from '../support/mock-upstream';
import { type Weir, adminOk, bearer, call, closeAll, governanceConfig, startMock, startWeirOn, writeConfigFile } from './governance-helpers';

let mock: MockUpstream;
let weir: Weir;

before(async () => {
  const db = await freshDatabase('admin_roles_http');
  mock = await startMock();
  weir = await startWeirOn(writeConfigFile(governanceConfig(mock.url, db)));
});

after(async () => {
  await closeAll(() => weir?.stop(), () => mock?.close(), stopTestPostgres);
});

test('an internal user\'s key creates and lists its own keys over HTTP, and is refused team creation', async () => {
  await adminOk(weir.url, '/user/new', { user_id: 'dev1', user_role: 'internal_user', auto_create_key: false });
  await adminOk(weir.url, '/user/new', { user_id: 'dev2', user_role: 'internal_user', auto_create_key: false });
  const own = await adminOk(weir.url, '/key/generate', { user_id: 'dev1' });
  await adminOk(weir.url, '/key/generate', { user_id: 'dev2', key_alias: 'not-yours' });

  const made = await call(weir.url, '/key/generate', { headers: bearer(own.key), body: { key_alias: 'self-made' } });
  assert.equal(made.status, 200, made.text);
  assert.equal(made.json.user_id, 'dev1');

  const listed = await call(weir.url, '/key/list?return_full_object=true', { headers: bearer(own.key), method: 'GET' });
  assert.equal(listed.status, 200, listed.text);
  assert.deepEqual(listed.json.keys.map((k: { user_id: string }) => k.user_id), ['dev1', 'dev1']);

  const refused = await call(weir.url, '/team/new', { headers: bearer(own.key), body: { team_alias: 'mine' } });
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json.error.type, 'auth_error');
  assert.equal(refused.json.error.message, 'Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route=/team/new. Your role=internal_user. Your user_id=***');
  const teams = await adminOk(weir.url, '/team/list', undefined, 'GET');
  assert.equal(teams.length, 0);
});
