// The admin page's observe pages in a real Chromium against a real Weir (PostgreSQL, the mock
// upstream, the `command` agent): calls made through Weir show up in Live (the counts rise by the
// calls made), in Logs (filtered by model and status, a row opened, a model's error with markup shown
// as text), in Spend (charts drawn, table rows, the CSV's content), and a run started from the page
// streams its events and shows its diff. A screenshot of each page goes to test-results/screenshots.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { MockUpstream } from '../support/mock-upstream';
import { launchBrowser, newPage, screenshot } from '../support/browser';
import { MASTER_KEY, adminOk, chat, closeAndCheckLedgers, ledgerDatabase, startMock, startWeirOn, writeConfigFile, type Weir } from '../integration/governance-helpers';
import { agentConfig, scriptProfile } from '../integration/agent-runs-helpers';
import { hashMatching, logIn, open, paintedPixels, tableRows, until } from './observe-helpers';

const XSS = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;

let mock: MockUpstream;
let weir: Weir;
let browser: Browser;
let page: Page;
let problems: string[];
let key: string;
let liveBefore = 0;

const textOf = async (testId: string) => ((await page.getByTestId(testId).textContent()) ?? '').trim();

before(async () => {
  mock = await startMock();
  const db = await ledgerDatabase('browser_observe');
  const profiles = scriptProfile('edit', 'echo "editing note.txt"; echo hello > note.txt; echo done');
  weir = await startWeirOn(writeConfigFile(agentConfig(mock.url, db, { profiles })));
  await adminOk(weir.url, '/team/new', { team_id: 'obs-team', team_alias: 'Observers' });
  await adminOk(weir.url, '/user/new', { user_id: 'obs-user', auto_create_key: false });
  key = (await adminOk(weir.url, '/key/generate', { key_alias: 'obs-key', user_id: 'obs-user', team_id: 'obs-team' })).key;
  browser = await launchBrowser();
  ({ page, problems } = await newPage(browser, weir.url));
  await logIn(page, 'admin', MASTER_KEY);
  // Before the login the page asks for a session it does not have: that 401 is the one expected.
  problems.length = 0;
  // The Live page counts from when it opens: it is open before the calls are made.
  await open(page, '#/live');
  await until('the live stream to tick', () => textOf('live-ticks'), (t) => t !== '');
  liveBefore = Number(await textOf('live-total'));
  for (let i = 0; i < 4; i++) assert.equal((await chat(weir.url, key, 'gpt', { max_tokens: 4 })).status, 200);
  assert.equal((await chat(weir.url, key, 'claude', { max_tokens: 4 })).status, 200);
  mock.enqueue({ status: 400, errorMessage: XSS });
  assert.equal((await chat(weir.url, key, 'gpt', { max_tokens: 4 })).status, 400);
});

after(() =>
  closeAndCheckLedgers(
    () => browser?.close(),
    () => weir?.stop(),
    () => mock?.close(),
  ),
);

test('Live: the counts rise by the calls made, errors by status, the deployments', async () => {
  const before = liveBefore;
  assert.equal(await textOf('live-link'), 'live');
  await until('Live to count the 6 calls', () => textOf('live-total'), (t) => Number(t) >= before + 6);
  assert.equal(Number(await textOf('live-total')), before + 6);
  await until('Live to count the error', () => textOf('live-errors-total'), (t) => t === '1');
  const errors = await tableRows(page, 'live-errors');
  assert.deepEqual(errors.map((r) => [r[0], r[2]]), [['400', '1']]);
  // Every deployment is listed (idle ones too), each with what it served since the page opened.
  const deployments = await tableRows(page, 'live-deployments');
  const served = Object.fromEntries(deployments.map((r) => [r[0], [r[7], r[8]]]));
  assert.deepEqual(served.gpt, ['5', '1']);
  assert.deepEqual(served.claude, ['1', '0']);
  assert.deepEqual(served['other-model'], ['0', '0']);
  assert.ok(deployments.every((r) => r[2] === 'healthy' || r[2] === 'errors'), JSON.stringify(deployments));
  assert.ok(await paintedPixels(page, 'live-throughput') > 0, 'the throughput chart drew');
  await screenshot(page, 'observe-live');
});

test('Logs: the calls listed, filtered by model and status, a row opened; the error markup is text', async () => {
  await open(page, '#/logs');
  const refresh = page.getByRole('button', { name: 'Refresh' });
  await until('the 6 calls in Logs', async () => {
    await refresh.click();
    return (await tableRows(page, 'logs')).filter((r) => r.length > 1).length;
  }, (n) => n === 6);

  await page.getByLabel('Model').fill('claude');
  await page.getByRole('button', { name: 'Filter' }).click();
  await until('the claude row alone', () => tableRows(page, 'logs'), (rows) => rows.length === 1 && rows[0]![2] === 'claude');

  await page.getByLabel('Model').fill('gpt');
  await page.getByLabel('Status').selectOption('failure');
  await page.getByRole('button', { name: 'Filter' }).click();
  const failed = await until('the failed gpt row alone', () => tableRows(page, 'logs'), (rows) => rows.length === 1 && rows[0]![1] === 'failure');
  assert.equal(failed[0]![2], 'gpt');
  assert.equal(failed[0]![3], 'obs-key');

  await page.getByTestId('logs').locator('tbody tr').first().click();
  const error = await until('the detail with the error', () => textOf('log-error'), (t) => t.length > 0);
  assert.ok(error.includes(XSS), `the error shows the markup as text: ${error}`);
  assert.equal(await page.evaluate(() => (globalThis as any).__pwned), undefined);
  assert.equal(await page.getByTestId('log-detail').locator('script, img').count(), 0);
  assert.match(await textOf('log-metadata'), /"user_api_key_alias": "obs-key"/);
  await screenshot(page, 'observe-logs');
});

test('Spend: totals, charts drawn, the breakdown table and its CSV', async () => {
  await open(page, '#/spend');
  const refresh = page.getByRole('button', { name: 'Refresh' });
  await until('the day’s 6 requests in Spend', async () => {
    await refresh.click();
    return page.getByTestId('spend-requests').textContent().catch(() => null);
  }, (t) => t === '6');
  const groups = await tableRows(page, 'spend-groups');
  assert.deepEqual(groups.map((r) => [r[0], r[3], r[4]]), [['gpt', '5', '1'], ['claude', '1', '0']]);
  assert.ok(await paintedPixels(page, 'spend-daily-chart') > 0, 'the daily chart drew');
  assert.ok(await paintedPixels(page, 'spend-group-chart') > 0, 'the group chart drew');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv-groups').click()]);
  assert.match(download.suggestedFilename(), /^spend-by-model-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv$/);
  const csv = fs.readFileSync((await download.path())!, 'utf8').trimEnd().split('\r\n');
  assert.equal(csv[0], 'model,label,spend_usd,requests,failed_requests,prompt_tokens,completion_tokens');
  assert.deepEqual(csv.slice(1).map((l) => l.split(',').slice(0, 2).concat(l.split(',')[3]!)), [['gpt', 'gpt', '5'], ['claude', 'claude', '1']]);

  await page.getByRole('tab', { name: 'Key' }).click();
  await until('the key breakdown', () => tableRows(page, 'spend-groups'), (rows) => rows.length === 1 && rows[0]![0] === 'obs-key');
  await page.getByRole('tab', { name: 'Team' }).click();
  await until('the team breakdown', () => tableRows(page, 'spend-groups'), (rows) => rows.length === 1 && rows[0]![0] === 'Observers');
  await screenshot(page, 'observe-spend');
});

test('Agent runs: a run started from the page streams its events and shows its diff; retry starts the next attempt', async () => {
  // The profiles the form picks from are held back: until they arrive there is nothing to start,
  // so the button waits (a click then would only earn the API's refusal). Once released, the route
  // lets every later request through at once.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let asked = 0;
  await page.route('**/v1/agent/profiles', async (route) => {
    asked++;
    await held;
    await route.continue();
  });
  await open(page, '#/runs');
  await page.getByTestId('runs').waitFor();
  await page.getByLabel('Prompt').fill('Please edit note.txt');
  await until('the form to ask for the profiles', async () => asked, (n) => n > 0);
  assert.equal(await page.getByRole('button', { name: 'Start run' }).isDisabled(), true);
  release();
  await page.getByRole('button', { name: 'Start run' }).click();
  const first = await hashMatching(page, '^#/runs/run_[0-9a-f]+$');
  const runId = first.split('/')[2]!;

  const types = await until(
    'the run’s events to arrive and end with succeeded',
    () => page.getByTestId('events').locator('li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-type')}: ${li.querySelector('.ev-text')?.textContent ?? ''}`)),
    (evs) => evs.includes('status: succeeded'),
    60_000,
  );
  assert.deepEqual(types.filter((t) => t.startsWith('status: ')), ['status: provisioning', 'status: running', 'status: succeeded']);
  assert.ok(types.includes('stdout: editing note.txt'), types.join('\n'));
  await until('the run’s state', () => textOf('status'), (s) => s === 'succeeded', 60_000);
  const diff = await until('the diff', () => page.getByTestId('diff').textContent().catch(() => ''), (t) => !!t && t.includes('+hello'), 60_000);
  assert.match(diff!, /note\.txt/);
  assert.equal(await page.getByTestId('diff').locator('.dl.add').filter({ hasText: '+hello' }).count(), 1);
  await screenshot(page, 'observe-run');

  await page.getByRole('button', { name: 'Retry' }).click();
  await hashMatching(page, '^#/runs/run_[0-9a-f]+$', first);
  await until('the retry to succeed', () => page.getByTestId('events').locator('li[data-type="status"]').allTextContents(), (t) => t.some((x) => x.includes('succeeded')), 60_000);
  assert.match(await page.locator('.facts').textContent() ?? '', new RegExp(`retry of ${runId}`));

  await open(page, '#/runs');
  // The list is read when asked: a run's row can follow its last event by a moment.
  await until('both runs listed as succeeded', async () => {
    await page.getByRole('button', { name: 'Refresh' }).click();
    return tableRows(page, 'runs');
  }, (r) => r.length === 2 && r.every((x) => x[1] === 'succeeded'), 60_000);
  await screenshot(page, 'observe-runs');
  assert.deepEqual(problems, []);
});
