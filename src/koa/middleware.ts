import type Koa from 'koa';
import type { Context, Middleware } from 'koa';
import createSession, { type CreateSessionOptions } from 'koa-session';
import { ConfigError } from '../errors.js';
import { optionalFunction } from '../options.js';
import type { SessionData } from '../request/agent-link.js';
import { httpErrorResponse, isAgentSessionHttpError, type AgentSessionHttpError } from '../request/http-errors.js';
import { resolveMiddlewareOptions, resolveSecrets, type AgentSessionOptionsBase } from '../request/options.js';
import { AgentRefresh } from '../request/refresh.js';
import { startAgentRequest } from '../request/request-start.js';
import { createHttpWarning } from '../request/secure-cookie.js';
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
   * or was over its size limit (`PayloadTooLargeError`: a cookie session over
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
      refresh: new AgentRefresh(config.agents, config.redis, config.log),
      idleTimeoutMs: config.idleTimeoutMs,
      maxSessionBytes: config.maxSessionBytes,
      log: config.log,
    }),
    externalKey: sessionIdCookie(cookie),
  };
  const loadSession = createSession(app, sessionOptions);
  const warnIfHttp = createHttpWarning(cookie.secure, config.log);

  return async function agentSessionMiddleware(ctx, next) {
    try {
      await loadSession(ctx, async () => {
        warnIfHttp(ctx.secure);
        const session = () => (ctx.session as KoaSession | null) ?? undefined;
        ctx.agent = startAgentRequest(config.agents, { data: session, id: () => session()?.externalKey }, () => config.userOf(ctx));
        await next();
      });
    } catch (error) {
      // A failed load (Redis unavailable), and the errors of ctx.agent calls in later middleware (see onError).
      if (!isAgentSessionHttpError(error)) throw error;
      await answer(error, ctx);
    }
  };
}

function defaultAnswer(retryAfterSeconds: number): (error: AgentSessionHttpError, ctx: Context) => void {
  return (error, ctx) => {
    const { status, headers, body } = httpErrorResponse(error, retryAfterSeconds);
    ctx.status = status;
    ctx.set(headers);
    ctx.body = body;
  };
}
