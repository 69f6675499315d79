import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
import { expect } from 'vitest';
import type { RedisConnection } from 'agent-session';
import { agentEvents as expressAgentEvents, agentSession as expressAgentSession, agentSessionErrorHandler } from 'agent-session/express';
import { agentEvents as koaAgentEvents, agentSession as koaAgentSession, type AgentEventsOptions } from 'agent-session/koa';
import { openSse, type SseEvent, type SseStream } from '../harness/sse.js';
import { uniquePrefix } from '../harness/store.js';
import { SECRET_A, type Framework } from './apps.js';
import { Browser } from './browser.js';

/**
 * The app the server-sent events tests run against, on either framework and
 * on any Redis connection (standalone in sse-events.test.ts, a Cluster in
 * sse-on-cluster.test.ts): /login, /turn, /tool, /delete and /events over a
 * real socket. The user is the x-user header when sent (a stand-in for a
 * bearer token), else the one logged in on the cookie session, as in apps.ts.
 */
export interface EventsApp {
  url: string;
  prefix: string;
  /** What the app reported as errors (Koa's 'error' event, Express's error handler): a client leaving is not one. */
  errors: unknown[];
  close(): Promise<void>;
}

export interface EventsAppOptions {
  /** agentEvents()'s options. */
  events?: AgentEventsOptions;
  /** The middleware's `events` option (publishing). Default true. */
  publish?: boolean;
}

export async function startEventsApp(redis: RedisConnection, framework: Framework, options: EventsAppOptions = {}): Promise<EventsApp> {
  const prefix = uniquePrefix();
  const common = { redis, keyPrefix: prefix, cookie: { secure: 'auto' as const }, events: options.publish ?? true };
  const events = options.events ?? {};
  const errors: unknown[] = [];
  let handler: Parameters<typeof createServer>[1];
  if (framework === 'express') {
    const app = express();
    app.use(express.json());
    app.use(
      expressAgentSession({
        ...common,
        secret: SECRET_A,
        getUserId: (req) => req.get('x-user') || (req.session as unknown as { userId?: string }).userId,
      }),
    );
    app.post('/login', async (req, res) => {
      (req.session as unknown as { userId?: string }).userId = String(req.body.userId);
      await req.agent.update({ agentId: 'test' });
      res.json({ agentSessionId: req.agent.id });
    });
    app.post('/turn', async (req, res) => void res.json(await req.agent.appendTurn({ role: 'user', content: 'a secret message' })));
    app.post('/tool', async (req, res) => {
      await req.agent.startToolCall({ id: 'call_1', name: 'lookup', args: { secret: 'arguments' } });
      await req.agent.completeToolCall('call_1', { secret: 'result' });
      res.status(204).end();
    });
    app.post('/delete', async (req, res) => {
      await req.agent.delete();
      res.status(204).end();
    });
    app.get('/events', expressAgentEvents(events));
    app.use(agentSessionErrorHandler());
    app.use((error: unknown, _req: express.Request, _res: express.Response, next: express.NextFunction) => {
      errors.push(error);
      next(error);
    });
    handler = app;
  } else {
    const app = new Koa();
    app.keys = [SECRET_A];
    app.on('error', (error: unknown) => errors.push(error));
    app.use(
      koaAgentSession(app, {
        ...common,
        getUserId: (ctx) => ctx.get('x-user') || (ctx.session?.userId as string | undefined),
      }),
    );
    const stream = koaAgentEvents(events);
    app.use(async (ctx, next) => {
      const route = `${ctx.method} ${ctx.path}`;
      if (route === 'GET /events') return stream(ctx, next);
      if (route === 'POST /login') {
        let text = '';
        for await (const chunk of ctx.req) text += chunk;
        ctx.session!.userId = String((JSON.parse(text) as { userId: string }).userId);
        await ctx.agent.update({ agentId: 'test' });
        ctx.body = { agentSessionId: ctx.agent.id };
      } else if (route === 'POST /turn') ctx.body = await ctx.agent.appendTurn({ role: 'user', content: 'a secret message' });
      else if (route === 'POST /tool') {
        await ctx.agent.startToolCall({ id: 'call_1', name: 'lookup', args: { secret: 'arguments' } });
        await ctx.agent.completeToolCall('call_1', { secret: 'result' });
        ctx.status = 204;
      } else if (route === 'POST /delete') {
        await ctx.agent.delete();
        ctx.status = 204;
      }
    });
    handler = app.callback();
  }
  const http: Server = createServer(handler);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    prefix,
    errors,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

export async function logIn(app: EventsApp, userId: string): Promise<{ browser: Browser; agentSessionId: string }> {
  const browser = new Browser(app.url, {});
  const login = await browser.post('/login', { userId });
  expect(login.status).toBe(200);
  return { browser, agentSessionId: (login.body as { agentSessionId: string }).agentSessionId };
}

/** Opens GET /events with the browser's cookies. */
export function openEvents(app: EventsApp, browser: Browser, headers: Record<string, string> = {}): Promise<SseStream> {
  return openSse(`${app.url}/events`, { cookie: browser.cookieHeader(), ...headers });
}

export const ofType = (type: string) => (event: SseEvent) => event.event === type;
/** The counter part of an event id (`<ms>-<n>`). */
export const counterOf = (event: SseEvent) => Number(event.id?.split('-')[1]);
