import { describe, expect, it, vi } from 'vitest';
import { inspect } from 'node:util';
import type { AgentSessionEvent } from 'agent-session/express';
import { FRAMEWORKS, type Framework } from './apps.js';
import { Browser } from './browser.js';
import { cookieSessionKeys, useFixture } from './fixture.js';

const fixture = useFixture();

/** What must never reach a log or a response: it stands for a token the app kept in its session. */
const SECRET = 'sk-live-hunter2-do-not-log';

/** Stored values neither framework can use; Express also needs the `cookie` object it wrote. */
function corruptValues(framework: Framework): Record<string, string> {
  return {
    'truncated JSON': `{"apiToken":"${SECRET}","cookie":{"originalMaxAge":36`,
    'not JSON at all': `apiToken=${SECRET}`,
    'JSON, not an object': JSON.stringify([SECRET]),
    ...(framework === 'express' ? { 'an object without its cookie': JSON.stringify({ apiToken: SECRET }) } : {}),
  };
}

describe.each(FRAMEWORKS)('%s: a cookie session Redis holds that cannot be read', (framework) => {
  for (const [what, value] of Object.entries(corruptValues(framework))) {
    it(`${what}: starts a fresh session and logs the key, never the value`, async () => {
      const events: AgentSessionEvent[] = [];
      const app = await fixture.app(framework, { logger: (event) => events.push(event) });
      const browser = new Browser(app);
      expect((await browser.post('/visit')).body).toEqual({ visits: 1 });
      const [key] = await cookieSessionKeys(fixture.inspector, app.prefix);
      await fixture.inspector.set(key!, value, { expiration: 'KEEPTTL' });

      const response = await browser.post('/visit');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ visits: 1 }); // a fresh session
      expect(JSON.stringify(response.body)).not.toContain(SECRET);
      expect(events).toEqual([{ type: 'warning', code: 'session_corrupt', key: key!, message: expect.stringContaining(key!) }]);
      expect(JSON.stringify(events)).not.toContain(SECRET);

      // The fresh session works as any other.
      expect((await browser.post('/visit')).body).toEqual({ visits: 2 });
      expect((await browser.post('/turn', { content: 'hello' })).status).toBe(200);
    });
  }
});

/** Replaces `key` by a value of another Redis type, keeping its TTL out of it (a foreign key may have none). */
async function wrongType(key: string, kind: 'hash' | 'list'): Promise<void> {
  await fixture.inspector.del(key);
  if (kind === 'hash') await fixture.inspector.hSet(key, 'apiToken', SECRET);
  else await fixture.inspector.rPush(key, SECRET);
}

describe.each(FRAMEWORKS)('%s: a cookie-session key of another Redis type', (framework) => {
  for (const kind of ['hash', 'list'] as const) {
    it(`a ${kind}: every route starts a fresh session, /login and /logout included, and only the key is logged`, async () => {
      const events: AgentSessionEvent[] = [];
      const app = await fixture.app(framework, { logger: (event) => events.push(event) });
      const browser = new Browser(app);
      expect((await browser.post('/login', { userId: 'alice' })).status).toBe(200);
      expect((await browser.post('/turn', { content: 'hello' })).status).toBe(200);
      const [key] = await cookieSessionKeys(fixture.inspector, app.prefix);
      await wrongType(key!, kind);

      for (const [path, status] of [['/visit', 200], ['/logout', 204], ['/login', 200]] as const) {
        const copy = browser.clone();
        const response = await copy.post(path, { userId: 'alice' });
        expect(response.status, path).toBe(status);
        expect(JSON.stringify(response.body ?? '')).not.toContain(SECRET);
      }
      const response = await browser.post('/visit');
      expect(response.body).toEqual({ visits: 1 }); // a fresh session
      const corrupt = events.filter((event) => 'code' in event && event.code === 'session_corrupt');
      expect(corrupt.length).toBeGreaterThan(0);
      for (const event of corrupt) expect(event).toMatchObject({ type: 'warning', key: key! });
      expect(JSON.stringify(events)).not.toContain(SECRET);
      // The fresh session works as any other.
      expect((await browser.post('/login', { userId: 'alice' })).status).toBe(200);
      expect((await browser.post('/turn', { content: 'again' })).status).toBe(200);
    });
  }
});

describe.each(FRAMEWORKS)('%s: a corrupt agent session never locks its user out', (framework) => {
  const corruptions: Array<[string, (keys: { meta: string; turns: string }) => Promise<unknown>]> = [
    ['the meta key of another type', ({ meta }) => wrongType(meta, 'list')],
    ['a non-numeric turn count', ({ meta }) => fixture.inspector.hSet(meta, 'turnCount', SECRET)],
    ['the turns key of another type', ({ turns }) => wrongType(turns, 'hash')],
    ['a stored turn that is not JSON', ({ turns }) => fixture.inspector.lSet(turns, 0, `{"content":"${SECRET}`)],
  ];
  for (const [what, corrupt] of corruptions) {
    it(`${what}: the agent routes fail without the value, the user can log out, delete it and start afresh`, async () => {
      const events: AgentSessionEvent[] = [];
      const logged: string[] = [];
      const app = await fixture.app(framework, {
        logger: (event) => {
          events.push(event);
          logged.push(JSON.stringify(event, Object.getOwnPropertyNames(event)));
        },
      });
      // What the frameworks print for an error the app left unhandled (Express's final handler, Koa's onerror), cause chain included.
      const printed: string[] = [];
      const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
        printed.push(args.map((arg) => inspect(arg, { depth: 10 })).join(' '));
      });
      const browser = new Browser(app);
      expect((await browser.post('/login', { userId: 'alice' })).status).toBe(200);
      const first = await browser.post('/turn', { content: 'hello' });
      expect(first.status).toBe(200);
      const id = String(first.body.agentSessionId);
      const base = `${app.prefix}{${id}}:`;
      await corrupt({ meta: `${base}meta`, turns: `${base}turns` });

      const state = await browser.get('/state');
      expect(state.status).toBeGreaterThanOrEqual(500);
      expect(JSON.stringify(state.body ?? '') + state.text).not.toContain(SECRET);
      // A route that does not use the agent is not held back by it. The load's touch writes only lastActive and
      // TTLs, so it meets (and reports) only a meta key of another type; a bad count or turns key shows in the agent routes above.
      expect((await browser.post('/visit')).status).toBe(200);
      if (what === 'the meta key of another type') {
        const key = `${base}meta`;
        expect(events).toContainEqual({ type: 'warning', code: 'agent_state_corrupt', key, message: expect.stringContaining(key) });
      }
      // The corrupt session can be deleted, whatever its keys hold.
      expect((await browser.post('/delete')).status).toBe(204);
      expect(await fixture.inspector.exists([`${base}meta`, `${base}turns`])).toBe(0);
      const fresh = await browser.post('/turn', { content: 'afresh' });
      expect(fresh.status).toBe(200);
      expect(fresh.body.seq).toBe(1);
      // Logging out and in again works too.
      expect((await browser.post('/logout')).status).toBe(204);
      expect((await browser.post('/login', { userId: 'alice' })).status).toBe(200);
      expect(logged.join('\n')).not.toContain(SECRET);
      spy.mockRestore();
      expect(printed.join('\n')).not.toContain(SECRET);
    });
  }
});
