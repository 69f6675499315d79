import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * Each entry point loads only the packages its users install (README,
 * Install): a Koa app has no express-session or connect-redis, an Express
 * app no koa-session, and only `agent-session/archive` needs pg. Each entry
 * is imported in a fresh Node process in which every import of the other
 * packages throws, as it would where they are not installed.
 */

const run = promisify(execFile);
const FORBID = fileURLToPath(new URL('./fixtures/forbid-packages.mjs', import.meta.url));
const src = (path: string) => new URL(`../../src/${path}`, import.meta.url).href;

const EXPRESS = ['express', 'express-session', 'connect-redis'];
const KOA = ['koa', 'koa-session'];
const PROM = 'prom-client';

async function importWithout(entry: string, forbidden: string[]): Promise<{ ok: boolean; output: string }> {
  const script = `await import(${JSON.stringify(src(entry))}); console.log('imported');`;
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', '--import', FORBID, '--input-type=module', '-e', script], {
      env: { ...process.env, FORBIDDEN_PACKAGES: forbidden.join(',') },
    });
    return { ok: stdout.includes('imported'), output: stdout + stderr };
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return { ok: false, output: stdout + stderr };
  }
}

describe('entry points load only their own packages', () => {
  it.each([
    { name: 'agent-session', entry: 'index.ts', forbidden: [...EXPRESS, ...KOA, 'pg', PROM] },
    { name: 'agent-session/express', entry: 'express/index.ts', forbidden: [...KOA, 'pg', PROM] },
    { name: 'agent-session/koa', entry: 'koa/index.ts', forbidden: [...EXPRESS, 'pg', PROM] },
    { name: 'agent-session/observer', entry: 'observer/index.ts', forbidden: [...EXPRESS, ...KOA, 'pg', PROM] },
    { name: 'agent-session/archive', entry: 'archive/index.ts', forbidden: [...EXPRESS, ...KOA, PROM] },
    { name: 'agent-session/tool-cache', entry: 'tool-cache/index.ts', forbidden: [...EXPRESS, ...KOA, 'pg', PROM] },
    { name: 'agent-session/metrics', entry: 'metrics/index.ts', forbidden: [...EXPRESS, ...KOA, 'pg'] },
  ].map((row) => ({ ...row, list: row.forbidden.join(', ') })))('$name loads none of: $list', async ({ entry, forbidden }) => {
    const result = await importWithout(entry, forbidden);
    expect(result.ok, result.output).toBe(true);
  });

  it('the check itself: agent-session/express without express-session fails to load', async () => {
    const result = await importWithout('express/index.ts', ['express-session']);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('forbidden package loaded: express-session');
  });
});
