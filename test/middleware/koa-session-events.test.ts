import { createServer, type Server } from 'node:http';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { agentSession } from 'agent-session/koa';
import { uniquePrefix } from '../harness/store.js';
import { eventually } from '../harness/wait.js';
import { SECRET_A } from './apps.js';
import { Browser, setCookies } from './browser.js';
import { useFixture } from './fixture.js';

/**
 * koa-session tells an app why a cookie's session was not used: the events
 * `session:expired` (it ran out) and `session:missed` (the store has no such
 * session). An app moving from koa-redis that listens for
 * `session:expired` must get it from agent-session's store too, within the
 * time koa-session asks a store to keep a session past its cookie (10 s), as
 * with koa-redis.
 */
const fixture = useFixture();
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

const IDLE_TIMEOUT_MS = 300;

/**
 * The cookies a response set, kept whatever their expiry: a cookie with a
 * max age under a second can arrive with an Expires already past (HTTP dates
 * have whole seconds), which a cookie jar drops at once.
 */
function keepCookies(into: Browser, response: Awaited<ReturnType<Browser['post']>>): Browser {
  for (const line of setCookies(response)) {
    const [pair] = line.split(';');
    const at = pair!.indexOf('=');
    into.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
  }
  return into;
}

function start(): { browser: Browser; events: string[] } {
  const app = new Koa();
  app.keys = [SECRET_A];
  app.proxy = true;
  const events: string[] = [];
  for (const name of ['session:expired', 'session:missed', 'session:invalid']) app.on(name, () => events.push(name));
  app.use(agentSession(app, { redis: fixture.redis, keyPrefix: uniquePrefix(), idleTimeoutMs: IDLE_TIMEOUT_MS, logger: () => {} }));
  app.use(async (ctx) => {
    if (ctx.path === '/logout') ctx.session = null;
    else if (ctx.method === 'POST') ctx.session!.visits = Number(ctx.session!.visits ?? 0) + 1;
    ctx.body = { visits: ctx.session?.visits ?? 0 };
  });
  const server = createServer(app.callback());
  servers.push(server);
  return { browser: new Browser({ server }), events };
}

describe('koa: session events', () => {
  it('a session whose max age has passed emits session:expired, not session:missed', async () => {
    const { browser, events } = start();
    const visit = await browser.post('/visit');
    expect(visit.body).toEqual({ visits: 1 });
    const lastActivity = Date.now();
    // A browser drops the cookie at its max age; a client that keeps it comes back just after the end.
    const kept = keepCookies(browser.clone(), visit);
    await eventually('the session to pass its max age', () => Date.now() > lastActivity + IDLE_TIMEOUT_MS + 50, 5_000);
    expect((await kept.get('/')).body).toEqual({ visits: 0 });
    await eventually('koa-session to emit its event', () => events.length > 0, 2_000);
    expect(events).toEqual(['session:expired']);
  });

  it('a session that was destroyed (a logout) emits session:missed', async () => {
    const { browser, events } = start();
    const kept = keepCookies(browser.clone(), await browser.post('/visit'));
    await kept.clone().post('/logout');
    expect((await kept.get('/')).body).toEqual({ visits: 0 });
    await eventually('koa-session to emit its event', () => events.length > 0, 2_000);
    expect(events).toEqual(['session:missed']);
  });
});
