import type Koa from 'koa';
import type { Context, Middleware } from 'koa';
import createSession, { type CreateSessionOptions } from 'koa-session';
import { ConfigError } from '../errors.js';
import { instrumentation } from '../instrumentation.js';
import { optionalFunction } from '../options.js';
import type { SessionData } from '../request/agent-link.js';
import { httpErrorResponse, isAgentSessionHttpError, type AgentSessionHttpError } from '../request/http-errors.js';
import { resolveMiddlewareOptions, resolveSecrets, type AgentSessionOptionsBase } from '../request/options.js';
import { AgentRefresh } from '../request/refresh.js';
import { newCookieSessionId } from '../request/agent-id.js';
import { LINK_FIELD, seedOf } from '../request/agent-link.js';
import { startAgentRequest } from '../request/request-start.js';
import { takeLoad } from '../request/request-state.js';
import { createHttpWarning } from '../request/secure-cookie.js';
import { guardAgentProperty } from '../request/unmounted-agent.js';
import { sessionIdCookie } from './cookie.js';
import { KoaCookieStore } from './store.js';

export interface KoaAgentSessionOptions extends AgentSessionOptionsBase<Context> {
  /**
   * Answers a request that failed because Redis is unavailable
   * (`StoreUnavailableError`), because the agent session belongs to another
   * user (`SessionUserMismatchError`), or, with the cold tier, because the
   * session's archive backlog is full (`ArchiveBacklogFullError`) or the
   * archive did not answer in time (`ArchiveUnavailableError`), because a
   * value was refused (`InvalidInputError`: a user id over `maxUserIdBytes`)
   * or was over its size limit (`AgentPayloadTooLargeError`: a cookie session over
   * `maxSessionBytes`, a turn over `limits.turnContentBytes`), or because an
   * idempotency key was reused (`IdempotencyConflictError`). Default: 403
   * `{ "error": "session_user_mismatch" }`, 400 `input_invalid`, 413
   * `payload_too_large`, 409 `idempotency_key_conflict`, else 503 with
   * `Retry-After` and `{ "error": "session_store_unavailable" |
   * "archive_backlog_full" | "archive_unavailable" }`.
   */
  onError?: ((error: AgentSessionHttpError, ctx: Context) => void | Promise<void>) | undefined;
}

type ErrorAnswer = NonNullable<KoaAgentSessionOptions['onError']>;

/** koa-session's session object, as far as agent-session reads it. */
type KoaSession = SessionData & { readonly externalKey?: string };

/**
 * The Koa middleware: koa-session with agent-session's Redis store and
 * secure defaults, plus `ctx.agent`. The cookie is signed with `app.keys`,
 * which must be set before this is called.
 */
export function agentSession(app: Koa, options: KoaAgentSessionOptions): Middleware {
  if (typeof app?.use !== 'function') {
    throw new ConfigError('agentSession(app, options) needs the Koa app first: app.use(agentSession(app, { redis })).');
  }
  refuseOtherSession(app);
  const config = resolveMiddlewareOptions(options, 'agentSession(app, options)', ['onError']);
  resolveSecrets(app.keys, { name: '`app.keys`', example: 'app.keys = [process.env.SESSION_KEY] (set before calling agentSession)' });
  const answer =
    optionalFunction<ErrorAnswer>('onError', options.onError, 'a function (error, ctx) that answers the request') ??
    defaultAnswer(config.retryAfterSeconds);
  const { cookie } = config;
  // koa-session passes options it does not know (path, domain) on to the cookies it sets.
  const sessionOptions: CreateSessionOptions & { path: string; domain?: string } = {
    key: cookie.name,
    maxAge: config.idleTimeoutMs,
    rolling: true,
    renew: false,
    signed: true,
    httpOnly: cookie.httpOnly,
    sameSite: cookie.sameSite,
    path: cookie.path,
    ...(cookie.domain !== undefined ? { domain: cookie.domain } : {}),
    // No `secure` here: the cookie that koa-session clears on logout or
    // regenerate then follows the request's scheme; the session cookie itself
    // is written by sessionIdCookie, which applies the Secure rule.
    store: new KoaCookieStore({
      redis: config.redis,
      prefix: config.sessionPrefix,
      refresh: new AgentRefresh(config.agents, config.redis, config.log, config.idleTimeoutMs),
      idleTimeoutMs: config.idleTimeoutMs,
      maxSessionBytes: config.maxSessionBytes,
      log: config.log,
    }),
    externalKey: sessionIdCookie(cookie),
    // Ids that carry the agent session's id as a hash tag (see newCookieSessionId); on a regenerate, the linked one's.
    genid: (ctx) => {
      const id = newCookieSessionId(forgetSeed((ctx as Context & { [SESSION_NOW]?: () => SessionData | undefined })[SESSION_NOW]?.()));
      // koa-session's session object keeps the id it was created with through a regenerate; ctx.agent needs the new one.
      Object.defineProperty(ctx, GENERATED_ID, { value: id, configurable: true });
      return id;
    },
  };
  const loadSession = createSession(app, sessionOptions);
  Object.defineProperty(app.context, OWNED, { value: true });
  guardAgentProperty(app.context, 'ctx.agent', 'app.use(agentSession(app, ...))');
  const warnIfHttp = createHttpWarning(cookie.secure, config.log);

  return async function agentSessionMiddleware(ctx, next) {
    instrumentation?.requestStarted(ctx.res);
    try {
      await loadSession(ctx, async () => {
        warnIfHttp(ctx.secure);
        const session = () => (ctx.session as KoaSession | null) ?? undefined;
        // For genid on a regenerate (before the load, ctx.session would start the load again).
        Object.defineProperty(ctx, SESSION_NOW, { value: session, configurable: true });
        const id = () => (ctx as Context & { [GENERATED_ID]?: string })[GENERATED_ID] ?? session()?.externalKey;
        ctx.agent = startAgentRequest(config.agents, { data: session, id }, () => config.userOf(ctx), takeLoad(ctx));
        await next();
      });
    } catch (error) {
      // A failed load (Redis unavailable), and the errors of ctx.agent calls in later middleware (see onError).
      if (!isAgentSessionHttpError(error)) throw error;
      instrumentation?.requestRefused(error, ctx.res);
      await answer(error, ctx);
    }
  };
}

/**
 * koa-session keeps the data across a regenerate (express-session does not,
 * and agent-session carries only the link across): a seed `detach()` left
 * would make the next agent id a digest, in another slot than the new id's
 * fresh tag. The fresh tag already leads away from the conversation left.
 */
function forgetSeed(data: SessionData | undefined): SessionData | undefined {
  if (data && seedOf(data) !== undefined) delete data[LINK_FIELD];
  return data;
}

/** The cookie session id genid made last in this request (a new session, a regenerate). */
const GENERATED_ID = Symbol('agent-session: the cookie session id generated in this request');

/** The request's cookie session data, once loaded (see genid). */
const SESSION_NOW = Symbol('agent-session: the loaded cookie session');

/** Marks an app whose ctx.session agentSession() defined. */
const OWNED = Symbol('agent-session: owns ctx.session');

/**
 * koa-session defines ctx.session on app.context once, with the options of
 * its first call, and ignores every later call's options: an app that
 * mounted koa-session (or another middleware defining ctx.session) first
 * would silently keep its own cookie, store and flags, and ctx.agent would
 * live in that session. Refuse at start-up instead.
 */
function refuseOtherSession(app: Koa): void {
  if (!Object.getOwnPropertyDescriptor(app.context, 'session')) return;
  if (Object.getOwnPropertyDescriptor(app.context, OWNED)) {
    throw new ConfigError(
      'agentSession(app, ...) was called twice for the same Koa app; the second call\'s options would be ignored. ' +
        'Call it once and mount that middleware wherever it is needed.',
    );
  }
  throw new ConfigError(
    'agentSession(app, ...) found ctx.session already defined on this Koa app, by koa-session (or another session middleware) set up before it. ' +
      "agent-session must own the cookie session: koa-session keeps the options of its first call, so agent-session's secure cookie defaults, " +
      "idle timeout and Redis store would not apply, and ctx.agent would live in the other session. " +
      'Either remove your own session middleware and let agentSession() own the session (to keep users logged in, pass your cookie name as `cookie.name`, ' +
      'keep `app.keys`, and pass koa-redis\'s key prefix as `sessionKeyPrefix`; see "Migrating from koa-session" in the README), ' +
      'or keep both apart: give the routes that need ctx.agent a Koa app of their own (mounted with koa-mount), with a different cookie name.',
  );
}

function defaultAnswer(retryAfterSeconds: number): (error: AgentSessionHttpError, ctx: Context) => void {
  return (error, ctx) => {
    const { status, headers, body } = httpErrorResponse(error, retryAfterSeconds);
    ctx.status = status;
    ctx.set(headers);
    ctx.body = body;
  };
}
