// Each role in the admin page (LiteLLM's): logged in with a key of a user whose user_role is set
// (made through the API), the navigation and the actions offered are what the role may do —
// a proxy_admin_viewer and an internal_user_viewer see no Create, an internal user creates its own
// keys, a team admin manages its team's members while a plain member does not.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { screenshot } from '../support/browser';
import { type Stack, navNames, startStack } from './manage-helpers';

let s: Stack;
const keys: Record<string, string> = {};
before(async () => {
  s = await startStack('ui_manage_roles');
  for (const [user_id, user_role] of [
    ['pa', 'proxy_admin'],
    ['pav', 'proxy_admin_viewer'],
    ['iu', 'internal_user'],
    ['iuv', 'internal_user_viewer'],
    ['lead', 'internal_user'],
    ['mate', 'internal_user'],
  ]) {
    const r = await s.api('POST', '/user/new', { user_id, user_role, key_alias: `${user_id}-key` });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    keys[user_id!] = r.body.key;
  }
  const t = await s.api('POST', '/team/new', { team_id: 'squad', team_alias: 'Squad', members_with_roles: [{ role: 'admin', user_id: 'lead' }, { role: 'user', user_id: 'mate' }] });
  assert.equal(t.status, 200, JSON.stringify(t.body));
});
after(async () => {
  await s?.close();
});

const ALL = ['Live', 'Keys', 'Teams', 'Users', 'Organizations', 'End users', 'Budgets', 'Models', 'Spend', 'Logs', 'Agent runs', 'Account'];
const OWN = ['Keys', 'Teams', 'Models', 'Logs', 'Agent runs', 'Account'];

async function as(user: string, role: string): Promise<{ page: Page; problems: string[] }> {
  const o = await s.open({ key: keys[user]! });
  await o.page.getByTestId('who').filter({ hasText: role }).waitFor();
  return o;
}

const createButtons = (page: Page) => page.getByRole('button', { name: /^Create/ }).count();

test('proxy_admin: every page, Create on each', async () => {
  const { page, problems } = await as('pa', 'proxy_admin');
  assert.deepEqual(await navNames(page), ALL);
  await page.getByRole('button', { name: 'Create key' }).waitFor();
  await page.getByRole('link', { name: 'Users', exact: true }).click();
  await page.getByRole('button', { name: 'Create user' }).waitFor();
  assert.deepEqual(problems, []);
});

test('proxy_admin_viewer: every page, no Create, no Edit', async () => {
  const { page, problems } = await as('pav', 'proxy_admin_viewer');
  assert.deepEqual(await navNames(page), ALL);
  await page.getByTestId('keys').getByRole('link', { name: 'pa-key' }).waitFor();
  assert.equal(await createButtons(page), 0);
  await page.getByTestId('keys').getByRole('link', { name: 'pa-key' }).click();
  await page.getByTestId('key-facts').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Edit' }).count(), 0);
  for (const name of ['Teams', 'Users', 'Organizations', 'End users', 'Budgets', 'Models']) {
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name, exact: true }).click();
    await page.getByRole('heading', { name, level: 1 }).waitFor();
    assert.equal(await createButtons(page), 0, name);
  }
  await screenshot(page, 'manage-role-proxy-admin-viewer');
  assert.deepEqual(problems, []);
});

test('internal_user: its own pages, creates keys; no users, organizations, end users or budgets', async () => {
  const { page, problems } = await as('iu', 'internal_user');
  assert.deepEqual(await navNames(page), OWN);
  // A key made in the page is its own (the form has no owner field; the server sets it).
  await page.getByRole('button', { name: 'Create key' }).click();
  const form = page.getByRole('form', { name: 'New key' });
  assert.equal(await form.locator('input[name=user_id]').count(), 0);
  await form.locator('input[name=key_alias]').fill('iu-made');
  await form.getByRole('button', { name: 'Create' }).click();
  const made = (await page.getByTestId('secret').textContent())!.trim();
  assert.equal((await s.api('GET', `/key/info?key=${made}`)).body.info.user_id, 'iu');
  await page.getByTestId('keys').getByRole('link', { name: 'iu-made' }).waitFor();
  // Only its own keys are listed.
  assert.equal(await page.getByTestId('keys').getByRole('link', { name: 'pa-key' }).count(), 0);
  await page.getByTestId('keys').getByRole('link', { name: 'iu-key' }).click();
  await page.getByRole('button', { name: 'Edit' }).waitFor();
  await screenshot(page, 'manage-role-internal-user');
  assert.deepEqual(problems, []);
});

test('internal_user_viewer: its own pages, no Create and no change to its own key', async () => {
  const { page, problems } = await as('iuv', 'internal_user_viewer');
  assert.deepEqual(await navNames(page), OWN);
  await page.getByTestId('keys').getByRole('link', { name: 'iuv-key' }).waitFor();
  assert.equal(await createButtons(page), 0);
  await page.getByTestId('keys').getByRole('link', { name: 'iuv-key' }).click();
  await page.getByTestId('key-facts').waitFor();
  for (const b of ['Edit', 'Block', 'Regenerate', 'Delete']) assert.equal(await page.getByRole('button', { name: b, exact: true }).count(), 0, b);
  await screenshot(page, 'manage-role-internal-user-viewer');
  assert.deepEqual(problems, []);
});

test('a team admin manages its team\'s members and keys; a plain member only sees them', async () => {
  const lead = await as('lead', 'internal_user');
  await lead.page.getByRole('link', { name: 'Teams', exact: true }).click();
  await lead.page.getByTestId('teams').getByRole('link', { name: 'Squad' }).click();
  await lead.page.getByTestId('team-title').filter({ hasText: 'Squad' }).waitFor();
  await lead.page.getByRole('form', { name: 'Add member' }).waitFor();
  await lead.page.getByRole('button', { name: 'Create key for this team' }).waitFor();
  assert.equal(await lead.page.getByRole('button', { name: 'Remove' }).count(), 2);
  await screenshot(lead.page, 'manage-role-team-admin');
  assert.deepEqual(lead.problems, []);

  const mate = await as('mate', 'internal_user');
  await mate.page.goto('/ui/#/teams/squad');
  await mate.page.getByTestId('team-members').getByRole('row', { name: /lead/ }).waitFor();
  assert.equal(await mate.page.getByRole('form', { name: 'Add member' }).count(), 0);
  assert.equal(await mate.page.getByRole('button', { name: 'Remove' }).count(), 0);
  assert.equal(await mate.page.getByRole('button', { name: 'Create key for this team' }).count(), 0);
  assert.deepEqual(mate.problems, []);
});
