/**
 * agent-session in a Koa app: the same HTTP contract as the Express example
 * (see the README), over plain http on your machine.
 *
 *   PORT=3001 npx tsx examples/koa-server.ts    # REDIS_URL defaults to redis://127.0.0.1:6379
 *   open http://localhost:3001/                  # the demo page (examples/shared/web/), live over GET /events
 *
 * With DATABASE_URL (PostgreSQL) set, conversations are also archived (run
 * `npm run archiver` beside it), and GET /conversations,
 * POST /conversations/:id/resume and GET /history are served, as in the
 * Express example.
 */
import { randomBytes } from 'node:crypto';
import Koa, { type Context } from 'koa';
import { connectRedis } from 'agent-session';
import { agentEvents, agentSession } from 'agent-session/koa';
import { coldTierFromEnvironment, listConversations, readHistory, resumeConversation, type Answer } from './shared/cold-tier.js';
import { chat, clientMessageId, conversationState, endConversation, leaveOtherUsersConversation, scriptedToolCache, startConversation } from './shared/scripted-agent.js';
import { errorAnswer, logLine } from './shared/errors.js';
import { checkMessage, readJsonBody, validUserId } from './shared/requests.js';
import { metricsAnswer, startMetrics } from './shared/metrics.js';
import { serve } from './shared/serve.js';
import { webPage } from './shared/web.js';

const port = Number(process.env.PORT ?? 3000);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const redis = await connectRedis({ url: redisUrl }).catch((error: Error) => {
  console.error(`Cannot start the example: ${error.message}`);
  process.exit(1);
});
// The scripted agent's tool is cached in Redis (agent-session/tool-cache); a repeated message is a cached call.
const tools = scriptedToolCache(redis);
const archive = await coldTierFromEnvironment(process.env.DATABASE_URL).catch(async (error: Error) => {
  console.error(`Cannot start the example: ${error.message}`);
  await redis.close();
  process.exit(1);
});

const app = new Koa();
// In production: fixed keys from the environment. A random one is fine for a
// demo; it only means a restart logs everyone out. The first key signs.
app.keys = [process.env.SESSION_SECRET ?? randomBytes(32).toString('base64url')];

// Outermost: whatever no route answered (a malformed or too large body, a conversation deleted
// mid-request, a bug) is answered as JSON without internals; details go to the log.
app.use(async (ctx, next) => {
  try {
    await next();
  } catch (error) {
    const { status, body, close } = errorAnswer(error);
    if (status >= 500) console.error(logLine(error, ctx.method, ctx.path));
    if (close) ctx.set('Connection', 'close');
    answer(ctx, status, body);
  }
});

// Before the session middleware: the page and a health check need no cookie.
const page = webPage();
app.use(async (ctx, next) => {
  const asset = page(ctx.method, ctx.path);
  if (!asset) return next();
  ctx.status = asset.status;
  ctx.set(asset.headers);
  ctx.body = asset.body;
});
app.use(async (ctx, next) => {
  if (ctx.path !== '/healthz') return next();
  const health = await redis.health();
  ctx.status = health.state === 'ready' ? 200 : 503;
  ctx.body = { redis: health.state, latencyMs: health.latencyMs };
});
// Prometheus metrics of agent-session (README "Metrics"): requests by outcome, operation latency, the observer queue, the tool cache, Redis.
startMetrics({ redis, toolCache: tools });
app.use(async (ctx, next) => {
  if (ctx.path !== '/metrics' || ctx.method !== 'GET') return next();
  const { contentType, body } = await metricsAnswer();
  ctx.type = contentType;
  ctx.body = body;
});

app.use(
  agentSession(app, {
    redis,
    getUserId: (ctx) => userOf(ctx),
    // Development over plain http: Secure cookies only when the request is
    // https. Behind a TLS-terminating proxy in production, keep the default
    // (secure: true) and set app.proxy = true.
    cookie: { secure: 'auto' },
    ...(archive ? { archive: { tier: archive } } : {}),
  }),
);

function userOf(ctx: Context): string | undefined {
  const userId = ctx.session?.userId;
  return typeof userId === 'string' ? userId : undefined;
}

// Live updates for the page: the conversation's events as server-sent events (they say what changed; the page reads /state).
const events = agentEvents();

const routes: Record<string, (ctx: Context) => Promise<void>> = {
  'POST /login': async (ctx) => {
    // Checked before anything is written to the session: a refused login changes nothing.
    const userId = validUserId((await readJsonBody(ctx.req)).userId);
    if (userId === undefined) return answer(ctx, 400, { error: 'invalid_user_id' });
    leaveOtherUsersConversation(ctx.agent, userId);
    // A new session id at login defends against session fixation; the agent state moves across.
    await ctx.session.regenerate();
    ctx.session.userId = userId;
    answer(ctx, 200, { userId, agentSessionId: await startConversation(ctx.agent) });
  },
  'POST /chat': async (ctx) => {
    if (!userOf(ctx)) return answer(ctx, 401, { error: 'login_required' });
    const body = await readJsonBody(ctx.req);
    const checked = checkMessage(body.message);
    if ('error' in checked) return answer(ctx, 400, { error: checked.error });
    const messageId = clientMessageId(body.messageId ?? ctx.get('idempotency-key'));
    if (messageId === false) return answer(ctx, 400, { error: 'invalid_message_id' });
    answer(ctx, 200, await chat(ctx.agent, checked.message, messageId, tools));
  },
  'GET /state': async (ctx) => {
    const userId = userOf(ctx);
    if (!userId) return answer(ctx, 401, { error: 'login_required' });
    answer(ctx, 200, await conversationState(ctx.agent, userId));
  },
  'GET /events': async (ctx) => {
    if (!userOf(ctx)) return answer(ctx, 401, { error: 'login_required' });
    await events(ctx, async () => undefined);
  },
  'POST /logout': async (ctx) => {
    await endConversation(ctx.agent, { keep: archive !== undefined });
    ctx.session = null; // koa-session destroys it in Redis and clears the cookie
    ctx.status = 204;
  },
};

/** The cold tier's routes, with the path parameter they match (see shared/cold-tier.ts). */
const coldTierRoutes: Array<[method: string, path: RegExp, route: (ctx: Context, parameter: string) => Promise<Answer>]> = [
  ['GET', /^\/conversations$/, (ctx) => listConversations(ctx.agent)],
  ['POST', /^\/conversations\/([^/]+)\/resume$/, (ctx, id) => resumeConversation(ctx.agent, id)],
  ['GET', /^\/history$/, (ctx) => readHistory(ctx.agent, { beforeSeq: ctx.query.beforeSeq, limit: ctx.query.limit })],
];

// 503 while Redis or the archive is unavailable or the archive backlog is full, 403 for another user's session and 400 / 413
// for a value the library refused are answered by agentSession itself; an unknown route is 404.
app.use(async (ctx) => {
  const route = routes[`${ctx.method} ${ctx.path}`];
  if (route) return route(ctx);
  for (const [method, path, coldTierRoute] of archive ? coldTierRoutes : []) {
    const match = ctx.method === method ? path.exec(ctx.path) : null;
    if (!match) continue;
    if (!userOf(ctx)) return answer(ctx, 401, { error: 'login_required' });
    const { status, body } = await coldTierRoute(ctx, decodedParameter(match[1] ?? ''));
    return answer(ctx, status, body);
  }
  answer(ctx, 404, { error: 'not_found' });
});

/** A path parameter as Express decodes it; a malformed escape is left as it is (no id has a "%", so it is answered as unknown). */
function decodedParameter(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function answer(ctx: Context, status: number, body: unknown): void {
  ctx.status = status;
  ctx.body = body;
}

serve('Koa', app.callback(), port, async () => {
  await archive?.close();
  await redis.close();
});
