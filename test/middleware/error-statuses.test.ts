import { createServer, type Server } from 'node:http';
import express from 'express';
import Koa from 'koa';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AgentPayloadTooLargeError,
  AgentSessionError,
  ArchiveBacklogFullError,
  ArchiveQueryError,
  ArchiveUnavailableError,
  ConfigError,
  connectRedis,
  CorruptStateError,
  HTTP_STATUS_BY_CODE,
  IdempotencyConflictError,
  RedisPermissionError,
  InvalidInputError,
  InvalidSessionIdError,
  LeaseLostError,
  SessionExistsError,
  SessionNotFoundError,
  SessionUserMismatchError,
  StoreUnavailableError,
  ToolCallNotFoundError,
  ToolCallStateError,
  UserRequiredError,
  type RedisConnection,
} from 'agent-session';
import { agentSession as expressAgentSession, agentSessionErrorHandler, type RequestAgent } from 'agent-session/express';
import { agentSession as koaAgentSession } from 'agent-session/koa';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniquePrefix } from '../harness/store.js';
import { SECRET_A } from './apps.js';

/**
 * Every typed error carries the HTTP status it means, where Express's final
 * handler and Koa's default error handling read it (`status`, `statusCode`,
 * `expose`): an app that answers none of them itself still sends 413 for an
 * oversized message, 400 for a bad one, 404 for an unknown tool call and 503
 * when Redis is down, never a 500.
 */
describe('the status of every typed error', () => {
  const examples: AgentSessionError[] = [
    new ConfigError('x'),
    new InvalidSessionIdError('x'),
    new AgentPayloadTooLargeError('A turn', 2, 1, 'limits.turnContentBytes'),
    new InvalidInputError('x'),
    new CorruptStateError('k', 'x'),
    new StoreUnavailableError('x'),
    new SessionNotFoundError('s'),
    new SessionExistsError('s'),
    new SessionUserMismatchError('s'),
    new ToolCallNotFoundError('c'),
    new ToolCallStateError('c', 'x'),
    new LeaseLostError('s'),
    new ArchiveBacklogFullError('s', 1),
    new ArchiveUnavailableError(1, 'ECONNREFUSED'),
    new ArchiveQueryError('x'),
    new UserRequiredError('x'),
    new IdempotencyConflictError('s'),
    new RedisPermissionError("to run the 'xadd' command", 'xadd'),
  ];

  it('covers every code', () => {
    expect(new Set(examples.map((error) => error.code))).toEqual(new Set(Object.keys(HTTP_STATUS_BY_CODE)));
  });

  it.each(examples.map((error) => [error.name, error] as const))('%s', (_name, error) => {
    const expected = {
      PAYLOAD_TOO_LARGE: 413,
      INPUT_INVALID: 400,
      SESSION_ID_INVALID: 400,
      USER_REQUIRED: 401,
      SESSION_USER_MISMATCH: 403,
      SESSION_NOT_FOUND: 404,
      TOOL_CALL_NOT_FOUND: 404,
      TOOL_CALL_STATE: 409,
      SESSION_EXISTS: 409,
      IDEMPOTENCY_CONFLICT: 409,
      LEASE_LOST: 409,
      STORE_UNAVAILABLE: 503,
      ARCHIVE_UNAVAILABLE: 503,
      ARCHIVE_BACKLOG_FULL: 503,
      CONFIG_INVALID: 500,
      STATE_CORRUPT: 500,
      ARCHIVE_QUERY_FAILED: 500,
      REDIS_PERMISSION_DENIED: 500,
    }[error.code];
    expect(error).toMatchObject({ status: expected, statusCode: expected, expose: expected < 500 });
  });
});

// A private server: the outage test stops it.
let server: RedisServer;
let redis: RedisConnection;
beforeAll(async () => {
  server = await startRedisServer();
  redis = await connectRedis({ url: server.url, failFastMs: 1_000, logger: () => {} });
});
afterAll(async () => {
  await redis?.close();
  await server?.dispose();
});

/** Routes that make `req.agent` / `ctx.agent` throw each kind of error, as an app's code would. */
const routes: Record<string, (agent: RequestAgent, destroySession: () => Promise<void>) => Promise<unknown>> = {
  '/turn': (agent) => agent.appendTurn({ role: 'user', content: 'hello' }),
  // 40 KB: over the default 32 KB limit of a turn.
  '/oversized': (agent) => agent.appendTurn({ role: 'user', content: 'x'.repeat(40 * 1024) }),
  '/bad-role': (agent) => agent.appendTurn({ role: 'nobody' as 'user', content: 'hello' }),
  '/unknown-tool-call': async (agent) => {
    await agent.appendTurn({ role: 'user', content: 'hello' });
    return agent.completeToolCall('call_that_never_started', { ok: true });
  },
  '/finished-twice': async (agent) => {
    await agent.startToolCall({ id: 'call_1', name: 'lookup', args: {} });
    await agent.completeToolCall('call_1', { ok: true });
    return agent.completeToolCall('call_1', { ok: true });
  },
  // The app's own mistake, not the client's: a 500, not a 400.
  '/after-destroy': async (agent, destroySession) => {
    await agent.appendTurn({ role: 'user', content: 'hello' });
    await destroySession();
    return agent.appendTurn({ role: 'user', content: 'again' });
  },
};

type Build = (options: { errorHandler: boolean }) => Server;

const expressServer: Build = ({ errorHandler }) => {
  const app = express();
  app.use(expressAgentSession({ redis, secret: SECRET_A, keyPrefix: uniquePrefix(), cookie: { secure: 'auto' }, logger: () => {} }));
  for (const [path, route] of Object.entries(routes)) {
    app.post(path, async (req, res) => {
      const destroySession = () => new Promise<void>((resolve, reject) => req.session.destroy((error) => (error ? reject(error) : resolve())));
      res.json(await route(req.agent, destroySession));
    });
  }
  if (errorHandler) app.use(agentSessionErrorHandler());
  return createServer(app);
};

/** Koa has no separate error handler: the middleware answers the errors it answers, the rest go to Koa's own handling. */
const koaServer: Build = () => {
  const app = new Koa();
  app.keys = [SECRET_A];
  app.silent = true;
  app.use(koaAgentSession(app, { redis, keyPrefix: uniquePrefix(), cookie: { secure: 'auto' }, logger: () => {} }));
  app.use(async (ctx) => {
    const route = routes[ctx.path];
    const destroySession = async () => {
      ctx.session = null;
    };
    if (route && ctx.method === 'POST') ctx.body = (await route(ctx.agent, destroySession)) ?? {};
  });
  return createServer(app.callback());
};

const cases: Array<[string, Build, { errorHandler: boolean }]> = [
  ['express without agentSessionErrorHandler()', expressServer, { errorHandler: false }],
  ['express with agentSessionErrorHandler()', expressServer, { errorHandler: true }],
  ["koa with Koa's default error handling", koaServer, { errorHandler: false }],
];

describe.each(cases)('%s', (_name, build, options) => {
  let app: Server;
  beforeAll(() => {
    app = build(options);
  });

  it('a route works (the app is wired)', async () => {
    expect((await request(app).post('/turn')).status).toBe(200);
  });

  it('413 for a 40 KB message', async () => {
    const response = await request(app).post('/oversized');
    expect(response.status).toBe(413);
    // The middleware answers the 413 itself where it can (Koa, Express with the error handler).
    if (build === koaServer || options.errorHandler) expect(response.body).toEqual({ error: 'payload_too_large' });
    else expect(response.text).toMatch(/over the limit of 32768 bytes/);
  });

  it('400 for a turn with an unknown role', async () => {
    expect((await request(app).post('/bad-role')).status).toBe(400);
  });

  it('404 for a tool call that was never started', async () => {
    expect((await request(app).post('/unknown-tool-call')).status).toBe(404);
  });

  it('500 for req.agent used after the route destroyed the cookie session (a mistake in the app)', async () => {
    expect((await request(app).post('/after-destroy')).status).toBe(500);
  });

  it('409 for a tool call that is no longer pending', async () => {
    expect((await request(app).post('/finished-twice')).status).toBe(409);
  });
});

describe.each(cases)('%s, Redis down', (_name, build, options) => {
  afterEach(async () => {
    await server.restart();
  });

  it('503 for a req.agent call', async () => {
    const app = build(options);
    await server.stop();
    const response = await request(app).post('/turn');
    expect(response.status).toBe(503);
    // Express's final handler shows the stack outside production (NODE_ENV=production hides it); the others answer JSON.
    if (build === koaServer || options.errorHandler) expect(response.body).toEqual({ error: 'session_store_unavailable' });
  });
});
