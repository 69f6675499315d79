import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
import { agentSession as expressAgentSession, agentSessionErrorHandler, type ExpressAgentSessionOptions } from 'agent-session/express';
import { agentSession as koaAgentSession, type AgentSessionHttpError, type HistoryQuery, type RequestAgent } from 'agent-session/koa';
import { AgentSessionError, ArchiveUnavailableError } from 'agent-session';

/**
 * One small app, built on either framework, so that every behaviour of the
 * conformance suite is written once and run against both. The routes are a
 * framework-neutral table; each framework only adapts requests to it.
 */
export type Framework = 'express' | 'koa';
export const FRAMEWORKS: Framework[] = ['express', 'koa'];

/** Long enough for any test, and easy to recognise. */
export const SECRET_A = 'a'.repeat(16) + 'secret-number-one-for-tests';
export const SECRET_B = 'b'.repeat(16) + 'secret-number-two-for-tests';

export interface TestAppOptions
  extends Omit<ExpressAgentSessionOptions, 'secret' | 'getUserId' | 'onError'> {
  /** Express `secret` / Koa `app.keys`. Default [SECRET_A]. */
  secrets?: unknown;
  /** Express `trust proxy` / Koa `app.proxy`. */
  trustProxy?: boolean;
  /** Becomes each framework's `onError`, called with the error only. Default: the middleware's own answers. */
  answerErrors?: (error: AgentSessionHttpError) => void;
}

interface RouteInput {
  agent: RequestAgent;
  body: Record<string, unknown>;
  session: Record<string, unknown>;
  /** Regenerates the cookie session (session-fixation defence) and records the user on it. */
  logIn(userId: string): Promise<void>;
  /** Forgets the user and regenerates the cookie session, as passport >= 0.6 `req.logout()` does. */
  logOut(): Promise<void>;
}
type Route = (input: RouteInput) => Promise<{ status: number; body?: unknown }>;

const routes: Record<string, Route> = {
  /** Uses neither the cookie session nor the agent. */
  'GET /noop': async () => ({ status: 204 }),
  /** Uses neither, and takes `ms` to answer: a long request (a stream, a slow model call). */
  'POST /slow': async ({ body }) => {
    await new Promise((resolve) => setTimeout(resolve, Number(body.ms)));
    return { status: 204 };
  },
  /** Writes the cookie session only. */
  'POST /visit': async ({ session }) => {
    session.visits = Number(session.visits ?? 0) + 1;
    return { status: 200, body: { visits: session.visits } };
  },
  /** Writes what the client sent into the cookie session (a stand-in for an app that stores request data there). */
  'POST /remember': async ({ session, body }) => {
    session.note = body.note;
    return { status: 200, body: { remembered: true } };
  },
  /** As the examples do: another user's conversation is left behind (detached), not deleted. */
  'POST /login': async ({ logIn, body, agent }) => {
    const userId = String(body.userId);
    if (agent.userId !== undefined && agent.userId !== userId) agent.detach();
    await logIn(userId);
    return { status: 200, body: { userId, agentSessionId: agent.id ?? null } };
  },
  'POST /logout': async ({ logOut }) => {
    await logOut();
    return { status: 204 };
  },
  'POST /detach': async ({ agent }) => {
    agent.detach();
    return { status: 204 };
  },
  'POST /turn': async ({ agent, body }) => {
    // A client-supplied message id makes a retried POST return the first append's turn.
    const retry = typeof body.messageId === 'string' ? { idempotencyKey: body.messageId } : undefined;
    const turn = await agent.appendTurn({ role: 'user', content: String(body.content ?? '') }, retry);
    return { status: 200, body: { seq: turn.seq, agentSessionId: agent.id } };
  },
  /** Logs in (regenerating the cookie session) and appends the first turn in the same request. */
  'POST /login-turn': async ({ logIn, agent, body }) => {
    await logIn(String(body.userId));
    const turn = await agent.appendTurn({ role: 'user', content: String(body.content ?? '') });
    return { status: 200, body: { seq: turn.seq, agentSessionId: agent.id } };
  },
  'POST /tool': async ({ agent }) => {
    const id = `call_${Date.now()}`;
    await agent.startToolCall({ id, name: 'lookup', args: { q: 1 } });
    await agent.completeToolCall(id, { found: true });
    return { status: 200, body: { id } };
  },
  'POST /delete': async ({ agent }) => {
    await agent.delete();
    return { status: 204 };
  },
  /** The cold tier's calls; the library's errors that the middleware leaves to the app come back as { code, message } (see `explained`). */
  'POST /resume': ({ agent, body }) => explained(async () => ({ status: 200, body: await agent.resume(String(body.id)) })),
  'POST /history': ({ agent, body }) => explained(async () => ({ status: 200, body: { turns: await agent.history(body as HistoryQuery) } })),
  'GET /conversations': ({ agent }) => explained(async () => ({ status: 200, body: await agent.conversations() })),
  /** Throws what a req.agent call throws when PostgreSQL does not answer, to show how each framework's middleware answers it. */
  'POST /archive-down': async () => {
    throw new ArchiveUnavailableError(2_000, 'ECONNREFUSED');
  },
  'GET /state': async ({ agent }) => {
    const { meta, turns, toolCalls, notes } = await agent.snapshot({ lastTurns: 200 });
    return {
      status: 200,
      body: { agentSessionId: agent.id ?? null, userId: agent.userId ?? null, turnCount: meta?.turnCount ?? 0, turns, toolCalls, notes },
    };
  },
};

/** Statuses for the library's errors that the middleware leaves to the app, as an app might choose them. */
const STATUS_BY_CODE: Partial<Record<AgentSessionError['code'], number>> = {
  SESSION_NOT_FOUND: 404,
  SESSION_ID_INVALID: 404,
  USER_REQUIRED: 401,
  INPUT_INVALID: 400,
  CONFIG_INVALID: 500,
};

/** Runs a route; an error in STATUS_BY_CODE is answered with its status and `{ code, message }`, anything else goes on to the middleware. */
async function explained(route: () => Promise<{ status: number; body?: unknown }>): Promise<{ status: number; body?: unknown }> {
  try {
    return await route();
  } catch (error) {
    const status = error instanceof AgentSessionError ? STATUS_BY_CODE[error.code] : undefined;
    if (status === undefined || !(error instanceof AgentSessionError)) throw error;
    return { status, body: { code: error.code, message: error.message } };
  }
}

/** The user: the `x-user` header (a stand-in for a bearer token), else the one logged in on the cookie session. */
function userFrom(header: string | string[] | undefined, session: Record<string, unknown> | null | undefined): string | null {
  if (typeof header === 'string' && header.length > 0) return header;
  return typeof session?.userId === 'string' ? session.userId : null;
}

export interface TestApp {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startApp(framework: Framework, options: TestAppOptions): Promise<TestApp> {
  const server = createServer(framework === 'express' ? expressApp(options) : koaApp(options).callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Builds only the middleware, for start-up checks. */
export function buildMiddleware(framework: Framework, options: TestAppOptions): void {
  if (framework === 'express') expressApp(options);
  else koaApp(options);
}

function expressApp({ secrets = [SECRET_A], trustProxy, answerErrors, ...options }: TestAppOptions): express.Express {
  const app = express();
  if (trustProxy) app.set('trust proxy', true);
  app.use(express.json());
  app.use(
    expressAgentSession({
      ...options,
      secret: secrets as string[],
      getUserId: (req) => userFrom(req.headers['x-user'], req.session as unknown as Record<string, unknown>),
      ...(answerErrors ? { onError: (error) => answerErrors(error) } : {}),
    }),
  );
  for (const [route, handler] of Object.entries(routes)) {
    const [method, path] = route.split(' ') as ['GET' | 'POST', string];
    app[method === 'GET' ? 'get' : 'post'](path, async (req, res) => {
      const session = req.session as unknown as Record<string, unknown>;
      const result = await handler({
        agent: req.agent,
        body: (req.body ?? {}) as Record<string, unknown>,
        session,
        logIn: async (userId) => {
          await new Promise<void>((resolve, reject) => req.session.regenerate((error) => (error ? reject(error) : resolve())));
          (req.session as unknown as Record<string, unknown>).userId = userId;
        },
        logOut: async () => {
          delete (req.session as unknown as Record<string, unknown>).userId;
          await new Promise<void>((resolve, reject) => req.session.regenerate((error) => (error ? reject(error) : resolve())));
        },
      });
      res.status(result.status);
      if (result.body === undefined) res.end();
      else res.json(result.body);
    });
  }
  app.use(agentSessionErrorHandler());
  return app;
}

function koaApp({ secrets = [SECRET_A], trustProxy, answerErrors, ...options }: TestAppOptions): Koa {
  const app = new Koa();
  app.keys = secrets as string[];
  if (trustProxy) app.proxy = true;
  app.use(
    koaAgentSession(app, {
      ...options,
      getUserId: (ctx) => userFrom(ctx.get('x-user'), ctx.session),
      ...(answerErrors ? { onError: (error) => answerErrors(error) } : {}),
    }),
  );
  app.use(async (ctx) => {
    const handler = routes[`${ctx.method} ${ctx.path}`];
    if (!handler) return;
    const body = ctx.method === 'POST' ? await readJson(ctx.req) : {};
    const result = await handler({
      agent: ctx.agent,
      body,
      session: ctx.session as Record<string, unknown>,
      logIn: async (userId) => {
        await ctx.session.regenerate();
        ctx.session.userId = userId;
      },
      logOut: async () => {
        delete ctx.session.userId;
        await ctx.session.regenerate();
      },
    });
    ctx.status = result.status;
    if (result.body !== undefined) ctx.body = result.body;
  });
  return app;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}
