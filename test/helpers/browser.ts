/**
 * Debian's headless Chromium driven by playwright-core (no browser download): one browser per
 * test file, closed at teardown even when the test fails. Screenshots go to test/artifacts/
 * (ignored by git; CI can keep the folder as the run's artifacts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(import.meta.dirname, '../artifacts');

export async function launchBrowser(t: { teardown(fn: () => unknown): void }): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  t.teardown(() => browser.close());
  return browser;
}

/** A context that answers the controller's Basic challenge with these credentials (or none). */
export async function browserContext(browser: Browser, t: { teardown(fn: () => unknown): void }, credentials?: { username: string; password: string }): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, ...(credentials ? { httpCredentials: credentials } : {}) });
  t.teardown(() => context.close());
  return context;
}

/** Where a test's screenshots go: test/artifacts/<area>/. */
export function artifactsDir(area: string): string {
  const dir = join(ARTIFACTS, area);
  mkdirSync(dir, { recursive: true });
  return dir;
}
