import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * Headless Chromium for the browser tests: Debian's `chromium` package
 * (.ci/run installs it), driven by playwright-core, which downloads no
 * browser of its own. Each context gets a fresh profile directory, so no
 * cookie, cache or setting carries over between tests.
 */
export const CHROMIUM_PATH = process.env.AGENT_SESSION_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. Missing Chromium fails in CI rather than skipping. */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  const reason = `${CHROMIUM_PATH} not found: install Debian's chromium package (apt-get install chromium), or set AGENT_SESSION_TEST_CHROMIUM`;
  if (process.env.CI) throw new Error(`The browser tests need Chromium in CI: ${reason}`);
  return reason;
}

export interface BrowserSession {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(viewport = { width: 1200, height: 820 }): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), 'agent-session-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
