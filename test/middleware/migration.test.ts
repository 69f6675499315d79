import { createServer, type Server } from 'node:http';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import Koa from 'koa';
import koaSession from 'koa-session';
import { afterEach, describe, expect, it } from 'vitest';
import { agentSession as expressAgentSession } from 'agent-session/express';
import { agentSession as koaAgentSession } from 'agent-session/koa';
import { uniquePrefix } from '../harness/store.js';
import { SECRET_A } from './apps.js';
import { Browser, setCookies, VIA_HTTPS_PROXY } from './browser.js';
import { useFixture } from './fixture.js';

/**
 * The README's migration guide, proven: an app on express-session +
 * connect-redis (the real packages) logs a user in; the app switches to
 * agent-session with the documented options (same cookie name, same secret,
 * connect-redis's key prefix as `sessionKeyPrefix`); the same browser is
 * still logged in, its `req.session` data is all there, and from then on the
 * session has agent-session's cookie flags and lifetime.
 */
const fixture = useFixture();
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

function serve(handler: Parameters<typeof createServer>[1]): Server {
  const server = createServer(handler);
  servers.push(server);
  return server;
}

const IDLE_TIMEOUT_MS = 30 * 60_000;

describe('express: from express-session + connect-redis to agent-session without logging anyone out', () => {
  it('the session connect-redis wrote is still the user\'s session after the switch', async () => {
    // connect-redis's default prefix is "sess:"; this test's own keeps the shared test server tidy.
    const connectRedisPrefix = `${uniquePrefix()}sess:`;

    // Before: the app as it was.
    const before = express();
    before.use(
      session({
        store: new RedisStore({ client: fixture.inspector, prefix: connectRedisPrefix }),
        secret: SECRET_A,
        resave: false,
        saveUninitialized: false,
        cookie: { maxAge: 24 * 60 * 60_000 },
      }),
    );
    before.use(express.json());
    before.post('/login', (req, res) => {
      const data = req.session as unknown as Record<string, unknown>;
      data.userId = 'alice';
      data.cart = ['book'];
      res.json({ ok: true });
    });
    const browser = new Browser({ server: serve(before) }, {});
    expect((await browser.post('/login')).status).toBe(200);
    expect([...browser.cookies.keys()]).toEqual(['connect.sid']);
    const keys = await fixture.inspector.keys(`${connectRedisPrefix}*`);
    expect(keys).toHaveLength(1);

    // After: express-session and connect-redis removed, agent-session mounted with the documented options.
    const after = express();
    after.set('trust proxy', true);
    after.use(
      expressAgentSession({
        redis: fixture.redis,
        secret: SECRET_A,
        cookie: { name: 'connect.sid' },
        sessionKeyPrefix: connectRedisPrefix,
        keyPrefix: uniquePrefix(),
        idleTimeoutMs: IDLE_TIMEOUT_MS,
        getUserId: (req) => (req.session as unknown as { userId?: string }).userId,
      }),
    );
    after.get('/me', (req, res) => {
      const { userId, cart } = req.session as unknown as Record<string, unknown>;
      res.json({ userId: userId ?? null, cart: cart ?? null });
    });
    after.post('/turn', async (req, res) => {
      await req.agent.appendTurn({ role: 'user', content: 'hello' });
      res.json({ userId: req.agent.userId ?? null });
    });
    // The same browser, now behind the https proxy the new app trusts.
    const switched = new Browser({ server: serve(after) }, VIA_HTTPS_PROXY);
    for (const [name, value] of browser.cookies) switched.cookies.set(name, value);

    const me = await switched.get('/me');
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ userId: 'alice', cart: ['book'] });
    // The cookie session now carries agent-session's flags and lifetime (set again, since sessions roll).
    const [cookie] = setCookies(me);
    expect(cookie).toMatch(/^connect\.sid=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(await fixture.inspector.pTTL(keys[0]!)).toBeLessThanOrEqual(IDLE_TIMEOUT_MS);

    // The agent works for the same user, and the cookie session is the same key as before.
    expect((await switched.post('/turn')).body).toEqual({ userId: 'alice' });
    expect(await fixture.inspector.keys(`${connectRedisPrefix}*`)).toEqual(keys);
    expect((await switched.get('/me')).body).toEqual({ userId: 'alice', cart: ['book'] });
  });
});

/**
 * koa-redis is not installed here: the "before" app's store writes what
 * koa-redis writes (the session as JSON, koa-session's `_expire` and
 * `_maxAge` included, under "koa:sess:" + the external key, with a PX TTL of
 * the max age koa-session passes).
 */
describe('koa: from koa-session + koa-redis to agent-session without logging anyone out', () => {
  it("the session koa-redis's format holds is still the user's session after the switch", async () => {
    const koaRedisPrefix = `${uniquePrefix()}koa:sess:`;
    const before = new Koa();
    before.keys = [SECRET_A];
    before.use(
      koaSession(before, {
        maxAge: 24 * 60 * 60_000,
        store: {
          get: async (key: string) => {
            const raw = await fixture.inspector.get(koaRedisPrefix + key);
            return raw === null ? null : JSON.parse(raw);
          },
          set: async (key: string, value: unknown, maxAge: number) => {
            await fixture.inspector.set(koaRedisPrefix + key, JSON.stringify(value), { expiration: { type: 'PX', value: maxAge } });
          },
          destroy: async (key: string) => {
            await fixture.inspector.del(koaRedisPrefix + key);
          },
        },
      }),
    );
    before.use(async (ctx) => {
      ctx.session!.userId = 'alice';
      ctx.body = { ok: true };
    });
    const browser = new Browser({ server: serve(before.callback()) }, {});
    expect((await browser.post('/login')).status).toBe(200);
    expect([...browser.cookies.keys()].sort()).toEqual(['koa.sess', 'koa.sess.sig']);

    const after = new Koa();
    after.keys = [SECRET_A];
    after.proxy = true;
    after.use(
      koaAgentSession(after, {
        redis: fixture.redis,
        cookie: { name: 'koa.sess' },
        sessionKeyPrefix: koaRedisPrefix,
        keyPrefix: uniquePrefix(),
        idleTimeoutMs: IDLE_TIMEOUT_MS,
        getUserId: (ctx) => ctx.session?.userId as string | undefined,
      }),
    );
    after.use(async (ctx) => {
      if (ctx.path === '/turn') await ctx.agent.appendTurn({ role: 'user', content: 'hello' });
      ctx.body = { userId: ctx.session?.userId ?? null, agentUser: ctx.agent.userId ?? null };
    });
    const switched = new Browser({ server: serve(after.callback()) });
    for (const [name, value] of browser.cookies) switched.cookies.set(name, value);
    expect((await switched.get('/me')).body).toEqual({ userId: 'alice', agentUser: null });
    expect((await switched.post('/turn')).body).toEqual({ userId: 'alice', agentUser: 'alice' });
    expect((await switched.get('/me')).body).toEqual({ userId: 'alice', agentUser: 'alice' });
  });
});
