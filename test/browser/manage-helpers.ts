// Shared by the admin page's management tests: one Weir (a database, the mock upstream as its one
// model) and one Chromium per file, the management API called as a client would, and the page's
// login steps. Everything is closed by `close()` in the file's `after`.
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';
import { freshDatabase, stopTestPostgres } from '../support/postgres';
import { callFresh } from '../support/http';
import { launchBrowser, newPage } from '../support/browser';

export const MASTER_KEY = 'sk-master-ui-manage-5c1e9a7d';
export const MODEL = 'mock-model';

export interface Stack {
  gw: GatewayProcess;
  mock: MockUpstream;
  browser: Browser;
  /** The management API (or any route) with a key; answers status and parsed body. */
  api(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: any }>;
  /** One chat completion with a key: its status. */
  chat(key: string): Promise<number>;
  /** A logged-in page (its own browser context) and the console / page errors it collects. */
  open(login: { password: string } | { key: string }): Promise<{ page: Page; problems: string[] }>;
  close(): Promise<void>;
}

/** More config: model_list entries, general_settings and router_settings lines (YAML, indented two spaces). */
export interface StackConfig {
  models?: (mockUrl: string) => string;
  general?: string;
  router?: string;
}

export async function startStack(label: string, more: StackConfig = {}): Promise<Stack> {
  const mock = await startMockUpstream();
  const dbUrl = await freshDatabase(label);
  const gw = await startGateway({
    config: `model_list:
  - model_name: ${MODEL}
    litellm_params:
      model: openai/mock-upstream-model
      api_base: ${mock.url}/v1
      api_key: sk-upstream-ui-manage
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
${more.models?.(mock.url) ?? ''}general_settings:
  master_key: ${MASTER_KEY}
  database_url: ${dbUrl}
${more.general ?? ''}${more.router ? `router_settings:\n${more.router}` : ''}`,
  });
  const browser = await launchBrowser();
  const contexts: Array<() => Promise<void>> = [];
  // A fresh connection per call: a refused call may end its connection, which a pooled client
  // would then reuse.
  const api: Stack['api'] = async (method, path, body, key = MASTER_KEY) => {
    const r = await callFresh(gw.url, path, { method, headers: { authorization: `Bearer ${key}` }, body, timeoutMs: 10_000 });
    return { status: r.status, body: r.json ?? r.text };
  };
  return {
    gw,
    mock,
    browser,
    api,
    async chat(key) {
      return (await api('POST', '/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'hi' }] }, key)).status;
    },
    async open(login) {
      const { context, page, problems } = await newPage(browser, gw.url);
      contexts.push(() => context.close());
      // Every answer that is not 2xx, by path, so a problem names the call that failed.
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
      });
      // The management pages' tests start on Keys (an admin's first page is Live).
      await page.goto('/ui/#/keys');
      if ('key' in login) {
        await page.getByRole('tab', { name: 'Virtual key' }).click();
        await page.locator('input[name=key]').fill(login.key);
      } else {
        await page.locator('input[name=username]').fill('admin');
        await page.locator('input[name=password]').fill(login.password);
      }
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByTestId('who').waitFor();
      // Before the login the page asked for a session and got 401 (and Chromium logged it): expected.
      problems.length = 0;
      return { page, problems };
    },
    async close() {
      for (const c of contexts) await c().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await gw.stop();
      await mock.close();
      await stopTestPostgres();
    },
  };
}

/** Polls `fn` until it returns true, failing with `what` after the deadline (state, not time, is awaited). */
export async function until(what: string, fn: () => Promise<boolean>, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Clicks a ConfirmButton and its "Yes, …". */
export async function confirm(page: Page, label: string): Promise<void> {
  await page.getByRole('button', { name: label, exact: true }).click();
  await page.getByRole('button', { name: `Yes, ${label.toLowerCase()}` }).click();
}

/** The navigation's page names. */
/** The pages in the navigation, once it has its final set (the pages that ask the server whether they are there have their answer). */
export async function navNames(page: Page): Promise<string[]> {
  await page.locator('nav[aria-label="Pages"][data-settled="true"]').waitFor();
  return page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents();
}
