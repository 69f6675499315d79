import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { listening, printed, runExample, stop, type Example } from '../examples/processes.js';
import { freePort, startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { chromiumMissing, launchChromium } from './chromium.js';

/**
 * The demo page in a real browser (headless Chromium), against each example
 * server run as users run it, with a real observer worker process beside it,
 * on a Redis of the file's own (so no other test's observer or example
 * touches these sessions). Live updates must arrive without a reload or a
 * poll: the page only reads /state when the event stream says so.
 *
 * `UPDATE_SCREENSHOT=1` (npm run screenshot) writes the Express run's
 * screenshots to docs/, for the README.
 */
const missing = chromiumMissing();
if (missing) console.warn(`Skipping the browser tests: ${missing}.`);

const docs = (name: string) => fileURLToPath(new URL(`../../docs/${name}`, import.meta.url));

let redis: RedisServer;
let observer: Example;
beforeAll(async () => {
  if (missing) return;
  redis = await startRedisServer();
  observer = runExample('examples/observer-worker.ts', { REDIS_URL: redis.url });
  await printed(observer, 'observer: serving');
});
afterAll(async () => {
  if (observer) await stop(observer);
  await redis?.dispose();
});

describe.skipIf(missing !== undefined).each([
  ['Express', 'examples/express-server.ts'],
  ['Koa', 'examples/koa-server.ts'],
])('%s example: the page in Chromium', (name, file) => {
  it('logs in, chats, shows the tool calls and the observer going live without a reload, survives a reload, logs out', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const server = runExample(file, { PORT: String(port), REDIS_URL: redis.url });
    const browser = await launchChromium();
    try {
      await listening(server, `http://localhost:${port}`);
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      const stateReads = countRequests(page, '/state');
      await page.goto(`http://localhost:${port}/`);

      // Logged out: the login form, reachable by its label.
      await page.getByLabel('User id').fill('ada');
      await page.getByLabel('User id').press('Enter');
      await expectText(page, '#user-name', 'ada');
      await page.locator('#live[data-state="live"]').waitFor();
      await page.locator('#observer[data-ready="false"]').getByText('{ ready: false }').waitFor();

      // A marker that a reload would lose: everything until the reload below happens on this one document.
      await page.evaluate(() => ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true));

      const messages = ['Hello, where is my order?', 'It is order 1234, placed last week', 'Thanks, that helps'];
      for (const [index, message] of messages.entries()) {
        await page.getByLabel('Message').fill(message);
        await page.getByLabel('Message').press('Enter');
        await page.locator('#conversation li.turn-assistant').nth(index).waitFor();
      }
      const replies = page.locator('#conversation li.turn-assistant');
      expect(await replies.count()).toBe(3);
      expect(await replies.nth(2).innerText()).toContain('You wrote 3 words');
      expect(await page.locator('#conversation li.turn-user').allInnerTexts()).toEqual(messages.map((message) => `YOU\n${message}`));
      await page.locator('#conversation li.tool-call[data-status="completed"]').nth(2).waitFor();
      expect(await page.locator('#conversation li.tool-call').count()).toBe(3);
      expect(await page.locator('#conversation li.tool-call').first().innerText()).toContain('count_words()');

      // The observer's notes arrive by the event stream: ready, covering every turn (lag 0).
      await page.locator('#observer[data-ready="true"]').waitFor({ timeout: 30_000 });
      await page.locator('#notes-lag[data-lag="0"]').waitFor({ timeout: 30_000 });
      expect(await page.locator('#notes-covers').innerText()).toBe('through turn 6');
      expect(await page.locator('#notes-body').innerText()).toContain('order status');
      expect(await page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
      expect(await page.locator('#conversation').getAttribute('aria-live')).toBe('polite');
      // The page has no timer that reads: every /state read followed an event (or the page load).
      expect(stateReads()).toBeGreaterThan(0);

      if (name === 'Express' && process.env.UPDATE_SCREENSHOT) {
        await page.screenshot({ path: docs('screenshot.png'), fullPage: true });
        await page.setViewportSize({ width: 390, height: 844 });
        await page.screenshot({ path: docs('screenshot-phone.png'), fullPage: true });
        await page.setViewportSize({ width: 1200, height: 820 });
      }

      // The same message again: the tool call is answered from the tool cache, and the page marks it.
      await page.getByLabel('Message').fill(messages[0]!);
      await page.getByLabel('Message').press('Enter');
      await page.locator('#conversation li.tool-call[data-status="completed"]').nth(3).waitFor();
      const calls = page.locator('#conversation li.tool-call');
      await calls.nth(3).and(page.locator('[data-cached="true"]')).waitFor();
      expect(await calls.nth(3).locator('.badge-cached').innerText()).toBe('cached');
      expect(await calls.nth(0).getAttribute('data-cached')).toBe('false');
      expect(await calls.locator('.badge-cached').count()).toBe(1);
      const sent = [...messages, messages[0]!];

      // A reload shows the same conversation, read back from Redis.
      await page.reload();
      await page.locator('#conversation li.turn-assistant').nth(3).waitFor();
      expect(await page.locator('#conversation li.turn-user').allInnerTexts()).toEqual(sent.map((message) => `YOU\n${message}`));
      expect(await page.locator('#conversation li.tool-call[data-cached="true"]').count()).toBe(1);
      await page.locator('#observer[data-ready="true"]').waitFor();
      await page.locator('#live[data-state="live"]').waitFor();

      // Logging out ends the conversation and shows the login form, also after a reload.
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByLabel('User id').waitFor();
      expect(await page.locator('#chat-view').isHidden()).toBe(true);
      await page.reload();
      await page.getByLabel('User id').waitFor();
      expect(await page.evaluate(async () => (await fetch('/state')).status)).toBe(401);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
      await stop(server);
    }
  });
});

describe.skipIf(missing !== undefined)('Express example with the cold tier: the page in Chromium', () => {
  it('lists the past conversations and resumes one, which then streams live again', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const env = { REDIS_URL: redis.url, DATABASE_URL: inject('pgUrl') };
    const server = runExample('examples/express-server.ts', { ...env, PORT: String(port) });
    const archiver = runExample('examples/archiver-worker.ts', env);
    const browser = await launchChromium();
    const user = `ada-${randomBytes(4).toString('hex')}`;
    try {
      await Promise.all([listening(server, `http://localhost:${port}`), printed(archiver, 'archiver: copying')]);
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      await page.goto(`http://localhost:${port}/`);
      await page.getByLabel('User id').fill(user);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.locator('#live[data-state="live"]').waitFor();
      await page.getByLabel('Message').fill('Where is my refund?');
      await page.getByRole('button', { name: 'Send' }).click();
      await page.locator('#conversation li.turn-assistant').first().waitFor();

      // With the cold tier, logout keeps the conversation; the next login starts a new one and lists the first.
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByLabel('User id').fill(user);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.locator('#history').waitFor();
      expect(await page.locator('#conversation li').count()).toBe(0);
      const archived = page.locator('#conversations li', { hasText: '2 turns' });
      for (const deadline = Date.now() + 30_000; (await archived.count()) === 0; ) {
        // The archiver copies in the background: ask for the list again, as a user would.
        if (Date.now() > deadline) throw new Error(`the first conversation was not listed: ${await page.locator('#conversations').innerText()}`);
        await page.getByRole('button', { name: 'Refresh the list' }).click();
        await page.waitForTimeout(200);
      }
      await archived.getByRole('button', { name: /^Resume/ }).click();
      await page.locator('#conversation li.turn-user', { hasText: 'Where is my refund?' }).waitFor();
      await page.locator('#live[data-state="live"]').waitFor();

      // The stream now follows the resumed conversation: a new message shows up through it.
      await page.getByLabel('Message').fill('Any news?');
      await page.getByLabel('Message').press('Enter');
      await page.locator('#conversation li.turn-assistant').nth(1).waitFor();
      expect(await page.locator('#turn-count').innerText()).toBe('(4 turns)');
    } finally {
      await browser.close();
      await Promise.all([stop(server), stop(archiver)]);
    }
  });
});

/** Counts the page's requests to `path`. */
function countRequests(page: Page, path: string): () => number {
  let count = 0;
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === path) count += 1;
  });
  return () => count;
}

async function expectText(page: Page, selector: string, text: string): Promise<void> {
  await page.locator(selector).getByText(text, { exact: true }).waitFor();
}
