/**
 * agent-session in an Express app: the example HTTP contract (see
 * the README) over plain http on your machine.
 *
 *   npm run demo                       # PORT=3000, REDIS_URL=redis://127.0.0.1:6379
 *   open http://localhost:3000/        # the demo page (examples/shared/web/), live over GET /events
 *   curl -c jar -b jar -X POST localhost:3000/login -H 'content-type: application/json' -d '{"userId":"ada"}'
 *   curl -c jar -b jar -X POST localhost:3000/chat  -H 'content-type: application/json' -d '{"message":"hello there"}'
 *   curl -c jar -b jar localhost:3000/state
 *   curl localhost:3000/metrics        # Prometheus metrics (README "Metrics")
 *
 * With OPENAI_API_KEY set (and optionally OPENAI_MODEL, OPENAI_BASE_URL),
 * /chat asks a real model, offering it the observer's notes as a tool.
 *
 * With DATABASE_URL (PostgreSQL) set, conversations are also archived (run
 * `npm run archiver` beside it) and three more routes are served:
 *   curl -c jar -b jar localhost:3000/conversations
 *   curl -c jar -b jar -X POST localhost:3000/conversations/<id>/resume
 *   curl -c jar -b jar 'localhost:3000/history?beforeSeq=40&limit=20'
 */
import { randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { connectRedis } from 'agent-session';
import { agentEvents, agentSession, agentSessionErrorHandler } from 'agent-session/express';
import { coldTierFromEnvironment, listConversations, readHistory, resumeConversation, type Answer } from './shared/cold-tier.js';
import { chat, clientMessageId, conversationState, endConversation, leaveOtherUsersConversation, scriptedToolCache, startConversation } from './shared/scripted-agent.js';
import { errorAnswer, logLine } from './shared/errors.js';
import { modelChatFromEnvironment } from './shared/model-agent.js';
import { BODY_LIMIT_BYTES, checkMessage, validUserId } from './shared/requests.js';
import { metricsAnswer, startMetrics } from './shared/metrics.js';
import { serve } from './shared/serve.js';
import { webPage } from './shared/web.js';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
  }
}

const port = Number(process.env.PORT ?? 3000);
// With OPENAI_API_KEY, /chat runs a real model (OpenAI chat completions, tool calls recorded through req.agent); without, the scripted agent.
const modelChat = modelChatFromEnvironment(process.env);
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

const app = express();
// A body over 64 KiB is refused (413) before it is read; errors are answered as JSON at the end.
app.use(express.json({ limit: BODY_LIMIT_BYTES }));

// Outside the session middleware: the page and a health check need no cookie.
const page = webPage();
app.use((req, res, next) => {
  const asset = page(req.method, req.path);
  if (!asset) return next();
  res.status(asset.status).set(asset.headers).send(asset.body);
});
app.get('/healthz', async (_req, res) => {
  const health = await redis.health();
  res.status(health.state === 'ready' ? 200 : 503).json({ redis: health.state, latencyMs: health.latencyMs });
});
// Prometheus metrics of agent-session (README "Metrics"): requests by outcome, operation latency, the observer queue, the tool cache, Redis.
startMetrics({ redis, toolCache: tools });
app.get('/metrics', async (_req, res) => {
  const { contentType, body } = await metricsAnswer();
  res.set('content-type', contentType).send(body);
});

app.use(
  agentSession({
    redis,
    // In production: a fixed secret from the environment. A random one is fine
    // for a demo; it only means a restart logs everyone out.
    secret: process.env.SESSION_SECRET ?? randomBytes(32).toString('base64url'),
    getUserId: (req) => req.session?.userId,
    // Development over plain http: Secure cookies only when the request is
    // https. Behind a TLS-terminating proxy in production, keep the default
    // (secure: true) and set app.set('trust proxy', 1).
    cookie: { secure: 'auto' },
    ...(archive ? { archive: { tier: archive } } : {}),
  }),
);

const userOf = (req: Request) => req.session.userId;

app.post('/login', async (req, res) => {
  // Checked before anything is written to the session: a refused login changes nothing.
  const userId = validUserId(req.body?.userId);
  if (userId === undefined) return void res.status(400).json({ error: 'invalid_user_id' });
  leaveOtherUsersConversation(req.agent, userId);
  // A new session id at login defends against session fixation; the agent state moves across.
  await new Promise<void>((resolve, reject) => req.session.regenerate((error) => (error ? reject(error) : resolve())));
  req.session.userId = userId;
  res.json({ userId, agentSessionId: await startConversation(req.agent) });
});

app.post('/chat', async (req, res) => {
  if (!userOf(req)) return void res.status(401).json({ error: 'login_required' });
  const checked = checkMessage(req.body?.message);
  if ('error' in checked) return void res.status(400).json({ error: checked.error });
  const messageId = clientMessageId(req.body?.messageId ?? req.get('idempotency-key'));
  if (messageId === false) return void res.status(400).json({ error: 'invalid_message_id' });
  res.json(await (modelChat ? modelChat(req.agent, checked.message, messageId) : chat(req.agent, checked.message, messageId, tools)));
});

app.get('/state', async (req, res) => {
  const userId = userOf(req);
  if (!userId) return void res.status(401).json({ error: 'login_required' });
  res.json(await conversationState(req.agent, userId));
});

// Live updates for the page: the conversation's events as server-sent events (they say what changed; the page reads /state).
const events = agentEvents();
app.get('/events', (req, res, next) => {
  if (!userOf(req)) return void res.status(401).json({ error: 'login_required' });
  events(req, res, next);
});

app.post('/logout', async (req, res) => {
  await endConversation(req.agent, { keep: archive !== undefined });
  await new Promise<void>((resolve, reject) => req.session.destroy((error) => (error ? reject(error) : resolve())));
  res.clearCookie('agent.sid').status(204).end();
});

if (archive) {
  const send = (res: Response, { status, body }: Answer) => void res.status(status).json(body);
  app.get('/conversations', async (req, res) => {
    if (!userOf(req)) return void res.status(401).json({ error: 'login_required' });
    send(res, await listConversations(req.agent));
  });
  app.post('/conversations/:id/resume', async (req, res) => {
    if (!userOf(req)) return void res.status(401).json({ error: 'login_required' });
    send(res, await resumeConversation(req.agent, String(req.params.id)));
  });
  app.get('/history', async (req, res) => {
    if (!userOf(req)) return void res.status(401).json({ error: 'login_required' });
    send(res, await readHistory(req.agent, { beforeSeq: req.query.beforeSeq, limit: req.query.limit }));
  });
}

app.use((_req, res) => void res.status(404).json({ error: 'not_found' }));

// 503 while Redis or the archive is unavailable or the archive backlog is full, 403 for another user's session,
// 400 / 413 for a value the library refused; everything else is answered below.
app.use(agentSessionErrorHandler());
// The rest (a malformed or too large body, a conversation deleted mid-request, a bug) as JSON without internals; details go to the log.
app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
  if (res.headersSent) return next(error);
  const { status, body, close } = errorAnswer(error);
  if (status >= 500) console.error(logLine(error, req.method, req.path));
  if (close) res.set('Connection', 'close');
  res.status(status).json(body);
});

serve('Express', app, port, async () => {
  await archive?.close();
  await redis.close();
});
