// A real Chromium for the admin page's tests, driven by playwright-core: Debian's `chromium`
// package, installed by the tests as root when it is missing (a new machine lacks it), else the
// tests fail with the command to run. Screenshots go to test-results/screenshots (not in git), one
// per page a test looks at, so a person can see what the browser saw.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { findOnPath } from '../../src/agents/sandbox/isolation';
import { ensureDebianPackage } from './debian-package';

export const SCREENSHOT_DIR = path.resolve(__dirname, '..', '..', '..', 'test-results', 'screenshots');

function locate(): string | null {
  return findOnPath('chromium') ?? findOnPath('chromium-browser') ?? ['/usr/bin/chromium', '/usr/lib/chromium/chromium'].find((p) => fs.existsSync(p)) ?? null;
}

/** The Chromium binary; throws with the command to run when it cannot be found or installed. */
export function chromiumBinary(): string {
  const r = ensureDebianPackage('chromium', 'by the admin page tests (a real browser)', locate);
  if ('error' in r) throw new Error(r.error);
  return r.found;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumBinary(),
    headless: true,
    // Root (as in CI containers) cannot use Chromium's own sandbox; the pages are our own.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    // No test may reach past loopback: nothing the browser fetches on its own.
    env: { ...process.env, GOOGLE_API_KEY: 'no', GOOGLE_DEFAULT_CLIENT_ID: 'no', GOOGLE_DEFAULT_CLIENT_SECRET: 'no' },
  });
}

/** A fresh context (its own cookies) whose page logs every console error and uncaught exception. */
export async function newPage(browser: Browser, baseURL: string): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return { context, page, problems };
}

/** Writes test-results/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9._-]+/gi, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
