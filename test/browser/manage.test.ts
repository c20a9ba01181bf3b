// The admin page's keys in a real Chromium against a real Weir: login with the master key, with a
// virtual key, and a wrong key; a key created in the page, read from it (shown once) and used for a
// real call to the mock upstream; blocked in the page and refused, unblocked, regenerated, deleted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, screenshot } from '../support/browser';
import { MASTER_KEY, type Stack, confirm, navNames, startStack, until } from './manage-helpers';

let s: Stack;
before(async () => {
  s = await startStack('ui_manage');
});
after(async () => {
  await s?.close();
});

test('a wrong key or password at login shows the error; the page stays at the login', async () => {
  const { context, page, problems } = await newPage(s.browser, s.gw.url);
  try {
    await page.goto('/ui/');
    await page.locator('input[name=username]').fill('admin');
    await page.locator('input[name=password]').fill('sk-not-the-master-key');
    await page.getByRole('button', { name: 'Log in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.ok((await alert.textContent())!.length > 0);
    await page.getByRole('tab', { name: 'Virtual key' }).click();
    await page.locator('input[name=key]').fill('sk-no-such-virtual-key');
    await page.getByRole('button', { name: 'Log in' }).click();
    await alert.waitFor();
    assert.equal(await page.getByTestId('who').count(), 0);
    await screenshot(page, 'manage-login-error');
    // A 401 answer logs a console error in Chromium ("Failed to load resource"): that one is expected.
    assert.deepEqual(problems.filter((p) => !/401/.test(p)), []);
  } finally {
    await context.close();
  }
});

test('a session that ends under the page (expired, or logged out elsewhere) brings the login back at the next call', async () => {
  const { page, problems } = await s.open({ password: MASTER_KEY });
  await page.getByTestId('who').waitFor();
  // The session ends on the server: its cookie, sent from outside the page, logs it out.
  const cookie = (await page.context().cookies()).find((c) => c.name === 'weir_session');
  assert.ok(cookie, 'the session cookie');
  const out = await fetch(`${s.gw.url}/ui/logout`, { method: 'POST', headers: { cookie: `weir_session=${cookie.value}` } });
  assert.equal(out.status, 200);
  // The next call the page makes is refused: the login form comes back, nothing else is shown.
  await page.getByRole('link', { name: 'Teams' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  assert.equal(await page.getByTestId('who').count(), 0);
  await screenshot(page, 'manage-session-ended');
  assert.deepEqual(problems.filter((p) => !/401/.test(p)), []);
});

test('master key: create a key in the page, use it, block, unblock, regenerate, delete', async () => {
  const { page, problems } = await s.open({ password: MASTER_KEY });
  assert.deepEqual(await navNames(page), ['Live', 'Keys', 'Teams', 'Users', 'Organizations', 'End users', 'Budgets', 'Models', 'Spend', 'Logs', 'Agent runs', 'Account']);
  await page.getByRole('link', { name: 'Keys' }).click();
  await page.getByRole('button', { name: 'Create key' }).click();
  const form = page.getByRole('form', { name: 'New key' });
  await form.locator('input[name=key_alias]').fill('ci-deploy');
  await form.locator('input[name=max_budget]').fill('12.5');
  await form.locator('input[name=rpm_limit]').fill('600');
  await form.locator('textarea[name=metadata]').fill('{"owner": "ci", "ticket": 42}');
  await form.getByRole('button', { name: 'Create' }).click();
  const secret = (await page.getByTestId('secret').textContent())!.trim();
  assert.match(secret, /^sk-/);
  await screenshot(page, 'manage-keys-created');

  // The key from the page calls the model.
  assert.equal(await s.chat(secret), 200);
  assert.equal(s.mock.requests.length >= 1, true);

  // The list shows it; searching finds it; its page shows limits and metadata.
  await page.getByRole('searchbox').fill('deploy');
  await page.getByRole('button', { name: 'Search' }).click();
  const row = page.getByTestId('keys').getByRole('row', { name: /ci-deploy/ });
  await row.waitFor();
  await row.getByRole('link', { name: 'ci-deploy' }).click();
  await page.getByTestId('key-title').filter({ hasText: 'ci-deploy' }).waitFor();
  const facts = page.getByTestId('key-facts');
  await facts.getByText('$12.50').waitFor();
  await facts.getByText('600', { exact: true }).waitFor();
  assert.deepEqual(JSON.parse((await page.getByTestId('key-metadata').textContent())!), { owner: 'ci', ticket: 42 });
  await screenshot(page, 'manage-key-detail');

  // Blocked in the page: the next call is refused.
  await confirm(page, 'Block');
  await facts.getByText('blocked').waitFor();
  await until('the blocked key refused', async () => [401, 403].includes(await s.chat(secret)));
  await page.getByRole('button', { name: 'Unblock' }).click();
  await facts.getByText('active').waitFor();
  await until('the unblocked key served', async () => (await s.chat(secret)) === 200);

  // Edit: the alias changes.
  await page.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('form', { name: 'Edit key' });
  await edit.locator('input[name=key_alias]').fill('ci-deploy-2');
  await edit.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('key-title').filter({ hasText: 'ci-deploy-2' }).waitFor();

  // Regenerate: a new key shown once; the old one stops, the new one works.
  await confirm(page, 'Regenerate');
  const second = page.getByTestId('secret');
  await second.waitFor();
  const renewed = (await second.textContent())!.trim();
  assert.notEqual(renewed, secret);
  await until('the old key refused after regenerate', async () => (await s.chat(secret)) === 401);
  assert.equal(await s.chat(renewed), 200);

  // Delete with confirmation: back on the list, the key gone and refused.
  await confirm(page, 'Delete');
  await page.getByRole('heading', { name: 'Keys' }).waitFor();
  await until('the deleted key refused', async () => (await s.chat(renewed)) === 401);
  const listed = await s.api('GET', '/key/list?key_alias=ci-deploy-2');
  assert.equal(listed.body.total_count, 0);
  assert.deepEqual(problems, []);
});

test('a virtual key logs in as its user role', async () => {
  assert.equal((await s.api('POST', '/user/new', { user_id: 'vk-owner' })).status, 200);
  const made = await s.api('POST', '/key/generate', { key_alias: 'plain-key', user_id: 'vk-owner' });
  assert.equal(made.status, 200);
  const { page, problems } = await s.open({ key: made.body.key });
  await page.getByTestId('who').filter({ hasText: 'internal_user' }).waitFor();
  // Its own key is listed (the list is what the key may see), and the page can open it.
  await page.getByTestId('keys').getByRole('link', { name: 'plain-key' }).click();
  await page.getByTestId('key-facts').waitFor();
  assert.deepEqual(problems, []);
});

test('the keys list is paged by the server: 25 a page, Next and Previous, the search kept', async () => {
  for (let i = 0; i < 27; i++) assert.equal((await s.api('POST', '/key/generate', { key_alias: `bulk-${String(i).padStart(2, '0')}` })).status, 200);
  const { page, problems } = await s.open({ password: MASTER_KEY });
  await page.getByRole('searchbox').fill('bulk-');
  await page.getByRole('button', { name: 'Search' }).click();
  const pager = page.locator('.pager');
  await pager.getByText('Page 1 · 27 in all').waitFor();
  const rows = page.getByTestId('keys').locator('tbody tr');
  assert.equal(await rows.count(), 25);
  await page.getByRole('button', { name: 'Next ›' }).click();
  await pager.getByText('Page 2 · 27 in all').waitFor();
  // The pager moves at the click; the rows when page 2 has come.
  await rows.nth(2).waitFor({ state: 'detached' });
  assert.equal(await rows.count(), 2);
  assert.equal(await page.getByRole('button', { name: 'Next ›' }).isDisabled(), true);
  await page.getByRole('button', { name: '‹ Previous' }).click();
  await pager.getByText('Page 1 · 27 in all').waitFor();
  await screenshot(page, 'manage-keys-paged');
  assert.deepEqual(problems, []);
});
