// What the observe pages' browser tests share: logging in through the form, going to a page by its
// hash, and polling the page for a state with a deadline (never a fixed wait). Callbacks that run in
// the page reach its window as `globalThis` (this file compiles without the DOM's types, and strings
// to evaluate would not do: the page's CSP forbids eval, which polling a string needs).
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { waitFor } from '../integration/governance-helpers';

/** The page's window inside evaluate callbacks (this file compiles without the DOM's types; a
 *  string to evaluate would not do: the page's CSP forbids eval, which polling strings need). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any

/** Waits until the hash matches `re` (a RegExp source) and is not `not`; returns it. */
export async function hashMatching(page: Page, re: string, not = ''): Promise<string> {
  await page.waitForFunction(([src, old]) => new RegExp(src!).test((globalThis as any).location.hash) && (globalThis as any).location.hash !== old, [re, not]);
  return String(await page.evaluate(() => (globalThis as any).location.hash));
}

export async function logIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/ui/');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('who').waitFor();
}

export async function open(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => {
    (globalThis as any).location.hash = h;
  }, hash);
  await page.waitForFunction((h) => (globalThis as any).location.hash === h, hash);
}

/** Polls `read` (a reading of the page) until `ok` holds; fails with the last reading. */
export async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  let last: T | undefined;
  try {
    return await waitFor(
      what,
      async () => {
        last = await read();
        return ok(last) ? { v: last } : null;
      },
      timeoutMs,
      100,
    ).then((r) => r.v);
  } catch (e) {
    assert.fail(`${(e as Error).message}; last seen: ${JSON.stringify(last)}`);
  }
}

/** The text of each body row's cells of the table with this test id. */
export async function tableRows(page: Page, testId: string): Promise<string[][]> {
  return page.getByTestId(testId).locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
}

/** How many pixels of the canvas inside `selector` are not blank: a chart that drew something. */
export async function paintedPixels(page: Page, testId: string): Promise<number> {
  return page.getByTestId(testId).evaluate((el) => {
    let n = 0;
    for (const c of el.querySelectorAll('canvas')) {
      const ctx = c.getContext('2d');
      if (!ctx || !c.width || !c.height) continue;
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
    }
    return n;
  });
}
