// The admin page's team, user, organization, end-user, budget and model pages in a real Chromium:
// each created and changed through the page and checked through the API; script in a key alias, a
// team name and metadata shown as text, never run; a screenshot per page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { screenshot } from '../support/browser';
import { MASTER_KEY, MODEL, type Stack, confirm, startStack, until } from './manage-helpers';

let s: Stack;
before(async () => {
  s = await startStack('ui_manage_pages', {
    general: '  store_model_in_db: true\n',
    // Two deployments: a group of one is never cooled down (LiteLLM's rule).
    models: (url) =>
      ['a', 'b'].map((d) => `  - model_name: flaky-model\n    litellm_params:\n      model: openai/flaky-${d}\n      api_base: ${url}/v1\n      api_key: sk-upstream-flaky\n`).join(''),
    router: '  num_retries: 0\n  cooldown_time: 600\n',
  });
});
after(async () => {
  await s?.close();
});

const IMG = '<img src=x onerror="window.__x=(window.__x||0)+1">';
const SCRIPT = '<script>window.__x=(window.__x||0)+1</script>';

async function go(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { name, level: 1 }).waitFor();
}

const ran = (page: Page) => page.evaluate('window.__x');

test('teams: create, members added with a role and a budget, role changed, member removed', async () => {
  const { page, problems } = await s.open({ password: MASTER_KEY });
  await go(page, 'Teams');
  await page.getByRole('button', { name: 'Create team' }).click();
  const form = page.getByRole('form', { name: 'New team' });
  await form.locator('input[name=team_alias]').fill(`Platform ${SCRIPT}`);
  await form.locator('input[name=team_id]').fill('platform');
  await form.locator('input[name=max_budget]').fill('100');
  await form.locator('textarea[name=metadata]').fill(JSON.stringify({ note: IMG }));
  await form.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('team-title').filter({ hasText: `Platform ${SCRIPT}` }).waitFor();
  assert.deepEqual(JSON.parse((await page.getByTestId('team-metadata').textContent())!), { note: IMG });

  const add = page.getByRole('form', { name: 'Add member' });
  await add.locator('input[name=member]').fill('ana');
  await add.locator('select[name=role]').selectOption('admin');
  await add.locator('input[name=max_budget_in_team]').fill('5');
  await add.getByRole('button', { name: 'Add member' }).click();
  const members = page.getByTestId('team-members');
  await members.getByRole('row', { name: /ana/ }).waitFor();
  await add.locator('input[name=member]').fill('ben');
  await add.getByRole('button', { name: 'Add member' }).click();
  await members.getByRole('row', { name: /ben/ }).waitFor();

  await page.getByLabel('Role of ben').selectOption('admin');
  const team = async () => (await s.api('GET', '/team/info?team_id=platform')).body;
  await until('ben an admin', async () => (await team()).team_info.members_with_roles.find((m: any) => m.user_id === 'ben')?.role === 'admin');
  const ana = (await team()).team_memberships.find((m: any) => m.user_id === 'ana');
  assert.equal(ana.litellm_budget_table.max_budget, 5);

  await members.getByRole('row', { name: /ben/ }).getByRole('button', { name: 'Remove' }).click();
  await page.getByRole('button', { name: 'Yes, remove' }).click();
  await until('ben removed', async () => !(await team()).team_info.members_with_roles.some((m: any) => m.user_id === 'ben'));
  await members.getByRole('row', { name: /ben/ }).waitFor({ state: 'detached' });

  // A key for the team from its page, its alias a script.
  await page.getByRole('button', { name: 'Create key for this team' }).click();
  const kf = page.getByRole('form', { name: 'New team key' });
  await kf.locator('input[name=key_alias]').fill(IMG);
  await kf.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('secret').waitFor();
  await page.getByTestId('team-keys').getByText(IMG).waitFor();
  await screenshot(page, 'manage-team-detail');

  await go(page, 'Teams');
  await page.getByTestId('teams').getByText(`Platform ${SCRIPT}`).waitFor();
  await screenshot(page, 'manage-teams');
  // The script-bearing key's page: alias as the title, metadata as text.
  await go(page, 'Keys');
  await page.getByTestId('keys').getByRole('link', { name: IMG }).click();
  await page.getByTestId('key-title').filter({ hasText: IMG }).waitFor();
  assert.equal(await ran(page), undefined);
  assert.equal(await page.locator('main img, main script').count(), 0);
  assert.deepEqual(problems, []);
});

test('users, organizations, end users and budgets: create, edit, block, delete in the page', async () => {
  const { page, problems } = await s.open({ password: MASTER_KEY });

  await go(page, 'Users');
  await page.getByRole('button', { name: 'Create user' }).click();
  let f = page.getByRole('form', { name: 'New user' });
  await f.locator('input[name=user_id]').fill('carol');
  await f.locator('input[name=user_email]').fill('carol@example.com');
  await f.locator('select[name=user_role]').selectOption('internal_user_viewer');
  await f.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('users').getByRole('row', { name: /carol@example.com/ }).click();
  await page.getByRole('button', { name: 'Edit' }).click();
  f = page.getByRole('form', { name: 'Edit user' });
  await f.locator('input[name=max_budget]').fill('7');
  await f.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('users').getByText('$7.00').waitFor();
  assert.equal((await s.api('GET', '/user/info?user_id=carol')).body.user_info.max_budget, 7);
  await screenshot(page, 'manage-users');

  await go(page, 'Organizations');
  await page.getByRole('button', { name: 'Create organization' }).click();
  f = page.getByRole('form', { name: 'New organization' });
  await f.locator('input[name=organization_alias]').fill(`Acme ${IMG}`);
  await f.locator('input[name=organization_id]').fill('acme');
  await f.locator('input[name=max_budget]').fill('1000');
  await f.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('organizations').getByText(`Acme ${IMG}`).waitFor();
  await page.getByTestId('organizations').getByRole('row', { name: /acme/ }).click();
  await screenshot(page, 'manage-organizations');
  await confirm(page, 'Delete');
  await page.getByTestId('organizations').getByText('No organizations.').waitFor();
  assert.equal((await s.api('GET', '/organization/info?organization_id=acme')).status, 404);

  await go(page, 'End users');
  await page.getByRole('button', { name: 'Create end user' }).click();
  f = page.getByRole('form', { name: 'New end user' });
  await f.locator('input[name=user_id]').fill('shopper-1');
  await f.locator('input[name=alias]').fill(SCRIPT);
  await f.locator('input[name=max_budget]').fill('3');
  await f.getByRole('button', { name: 'Create' }).click();
  const row = page.getByTestId('end-users').getByRole('row', { name: /shopper-1/ });
  await row.click();
  await confirm(page, 'Block');
  await row.getByText('blocked').waitFor();
  assert.equal((await s.api('GET', '/customer/info?end_user_id=shopper-1')).body.blocked, true);
  await page.getByRole('button', { name: 'Unblock' }).click();
  await row.getByText('active').waitFor();
  await screenshot(page, 'manage-end-users');

  await go(page, 'Budgets');
  await page.getByRole('button', { name: 'Create budget' }).click();
  f = page.getByRole('form', { name: 'New budget' });
  await f.locator('input[name=budget_id]').fill('tier-gold');
  await f.locator('input[name=max_budget]').fill('50');
  await f.locator('input[name=budget_duration]').fill('30d');
  await f.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('budgets').getByRole('row', { name: /tier-gold/ }).click();
  await page.getByRole('button', { name: 'Edit' }).click();
  f = page.getByRole('form', { name: 'Edit budget' });
  await f.locator('input[name=max_budget]').fill('60');
  await f.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('budgets').getByText('$60.00').waitFor();
  await screenshot(page, 'manage-budgets');
  await confirm(page, 'Delete');
  await page.getByTestId('budgets').getByText('tier-gold').waitFor({ state: 'detached' });

  assert.equal(await ran(page), undefined);
  assert.deepEqual(problems, []);
});

test('models: groups and deployments from the config, read-only; Test sends one chat call', async () => {
  const { page, problems } = await s.open({ password: MASTER_KEY });
  await go(page, 'Models');
  const groups = page.getByTestId('model-groups');
  await groups.getByText(MODEL, { exact: true }).waitFor();
  const dep = page.getByTestId('deployments').getByRole('row', { name: /openai\/mock-upstream-model/ });
  await dep.getByText('$1.00').waitFor(); // 0.000001 per token = $1 per million
  await dep.getByText('config file').waitFor();
  await dep.getByText('read-only').waitFor();
  assert.equal(await dep.getByRole('button', { name: 'Edit' }).count(), 0);
  const before = s.mock.requests.length;
  await groups.getByRole('button', { name: `Test ${MODEL}` }).click();
  await page.getByTestId('model-test-result').filter({ hasText: 'Hello from mock' }).waitFor();
  assert.equal(s.mock.requests.length, before + 1);
  await screenshot(page, 'manage-models');
  assert.deepEqual(problems, []);
});

test('models stored in the database: added, tested, edited and deleted in the page', async () => {
  const { page, problems } = await s.open({ password: MASTER_KEY });
  await go(page, 'Models');
  await page.getByRole('button', { name: 'Add model' }).click();
  const f = page.getByRole('form', { name: 'New model' });
  await f.locator('input[name=model_name]').fill('db-model');
  await f.locator('input[name=model]').fill('openai/db-upstream-model');
  await f.locator('input[name=api_base]').fill(`${s.mock.url}/v1`);
  await f.locator('input[name=api_key]').fill('sk-upstream-db-model');
  await f.locator('input[name=output_cost_per_token]').fill('0.000003');
  await f.getByRole('button', { name: 'Add' }).click();
  const row = page.getByTestId('deployments').getByRole('row', { name: /db-upstream-model/ });
  await row.getByText('database').waitFor();
  await row.getByText('$3.00').waitFor();
  // The key typed in the form is stored, never shown back.
  assert.equal(await page.getByText('sk-upstream-db-model').count(), 0);

  await page.getByTestId('model-groups').getByRole('button', { name: 'Test db-model' }).click();
  await page.getByTestId('model-test-result').filter({ hasText: 'db-model: Hello from mock' }).waitFor();
  assert.equal(s.mock.requests.at(-1)!.headers.authorization, 'Bearer sk-upstream-db-model');

  await row.getByRole('button', { name: 'Edit' }).click();
  const e = page.getByRole('form', { name: 'Edit db-model' });
  assert.equal(await e.locator('input[name=api_key]').inputValue(), '');
  await e.locator('input[name=rpm]').fill('60');
  await e.getByRole('button', { name: 'Save' }).click();
  await row.getByRole('cell', { name: '60', exact: true }).waitFor();
  await screenshot(page, 'manage-models-db');

  await row.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await row.waitFor({ state: 'detached' });
  const info = (await s.api('GET', '/model/info')).body.data.map((d: any) => d.model_name);
  assert.equal(info.includes('db-model'), false);
  assert.deepEqual(problems, []);
});

test('models: a failing Test shows the upstream error as text, and the deployment it cooled down', async () => {
  const { page, problems } = await s.open({ password: MASTER_KEY });
  await go(page, 'Models');
  const groups = page.getByTestId('model-groups');
  await groups.getByRole('row', { name: /flaky-model/ }).getByText('healthy').waitFor();
  s.mock.enqueue({ status: 429, errorMessage: `slow down ${IMG}` });
  await groups.getByRole('button', { name: 'Test flaky-model' }).click();
  const result = page.getByTestId('model-test-result');
  await result.filter({ hasText: 'slow down' }).waitFor();
  assert.match((await result.textContent())!, /<img src=x onerror=/);
  assert.equal(await result.getAttribute('class'), 'error');
  // An upstream refusing the deployment's key answers 401: the page shows it and stays logged in.
  s.mock.enqueue({ status: 401, errorMessage: 'upstream says: invalid api key' });
  await groups.getByRole('button', { name: 'Test flaky-model' }).click();
  await result.filter({ hasText: 'invalid api key' }).waitFor();
  await page.getByTestId('who').waitFor();
  assert.equal(await page.locator('form[aria-label="Log in"]').count(), 0);
  // A 429 cools the deployment down at once; the live stream tells the page within a tick or two.
  await groups.getByRole('row', { name: /flaky-model/ }).getByText('1 of 2 cooling down').waitFor();
  await page.getByTestId('deployments').getByRole('row', { name: /flaky-/ }).getByText('cooldown').waitFor();
  await screenshot(page, 'manage-models-cooldown');
  assert.equal(await ran(page), undefined);
  // The Test calls' own 429 and 401 are the failed answers.
  assert.deepEqual(problems.filter((p) => !/\b(429|401)\b/.test(p)), []);
});
