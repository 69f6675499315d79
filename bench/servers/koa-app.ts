import Koa, { type Context, type Middleware } from 'koa';
import createSession from 'koa-session';
import type { RedisClientType } from 'redis';
import { appendContent, BAD_APPEND, LOGIN_REQUIRED, parseLogin, ROUTES } from '../contract.js';
import type { BenchSession, Handlers, SessionAccess } from './handlers.js';

const BODY_LIMIT = 64 * 1024;

/** Reads a JSON request body (Koa has no parser of its own; the bench needs no dependency for one). */
async function jsonBody(ctx: Context): Promise<unknown> {
  if (ctx.method === 'GET' || !ctx.is('application/json')) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) ctx.throw(413);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return ctx.throw(400, 'invalid JSON');
  }
}

/** The Koa side of every bench server: `app.keys`, the state layer's middleware, the contract's routes. */
export function koaApp(secret: string, middleware: (app: Koa) => Middleware[], handlers: Handlers<Context>): Koa {
  const app = new Koa();
  app.keys = [secret];
  for (const layer of middleware(app)) app.use(layer);

  app.use(async (ctx) => {
    const route = `${ctx.method} ${ctx.path}`;
    if (route === `${ROUTES.login.method} ${ROUTES.login.path}`) {
      ctx.body = await handlers.login(ctx, parseLogin(await jsonBody(ctx)));
    } else if (route === `${ROUTES.read.method} ${ROUTES.read.path}`) {
      const view = await handlers.read(ctx);
      ctx.status = view ? 200 : 401;
      ctx.body = view ?? LOGIN_REQUIRED;
    } else if (route === `${ROUTES.append.method} ${ROUTES.append.path}`) {
      const content = appendContent(await jsonBody(ctx));
      const turnCount = content === undefined ? undefined : await handlers.append(ctx, content);
      ctx.status = content === undefined ? 400 : turnCount === undefined ? 401 : 200;
      ctx.body = content === undefined ? BAD_APPEND : turnCount === undefined ? LOGIN_REQUIRED : { turnCount };
    } else if (route === `${ROUTES.touch.method} ${ROUTES.touch.path}`) {
      const userId = await handlers.touch(ctx);
      ctx.status = userId === undefined ? 401 : 200;
      ctx.body = userId === undefined ? LOGIN_REQUIRED : { userId };
    } else {
      ctx.status = 404;
    }
  });
  return app;
}

/**
 * The external store a user writes by hand for koa-session on node-redis
 * (koa-redis is of the ioredis 4 era): GET and JSON.parse, SET ... PX with
 * the whole JSON, DEL.
 */
export function plainKoaStore(client: RedisClientType, prefix = 'koa:sess:') {
  return {
    async get(key: string): Promise<unknown> {
      const raw = await client.get(prefix + key);
      return raw ? JSON.parse(raw) : undefined;
    },
    async set(key: string, value: unknown, maxAge: number): Promise<void> {
      await client.set(prefix + key, JSON.stringify(value), { expiration: { type: 'PX', value: maxAge } });
    },
    async destroy(key: string): Promise<void> {
      await client.del(prefix + key);
    },
  };
}

/**
 * koa-session with that store and the settings agent-session uses for its
 * own cookie session: signed httpOnly SameSite=Strict cookie, 1 h, and
 * `rolling` for an activity-based idle expiry (koa-session then saves the
 * session on every request, which is how it implements rolling).
 */
export function koaCookieSession(app: Koa, client: RedisClientType): Middleware {
  return createSession(
    {
      key: 'koa.sid',
      maxAge: 60 * 60 * 1000,
      rolling: true,
      httpOnly: true,
      signed: true,
      secure: false,
      sameSite: 'strict',
      store: plainKoaStore(client),
    },
    app,
  ) as Middleware;
}

export const koaSessionAccess: SessionAccess<Context> = {
  get: (ctx) => (ctx.session ?? {}) as unknown as BenchSession,
  regenerate: async (ctx) => {
    await ctx.session?.regenerate();
    return ctx.session as unknown as BenchSession;
  },
};
