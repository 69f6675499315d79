import express, { type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import session from 'express-session';
import { AgentPayloadTooLargeError, ConfigError } from '../errors.js';
import { instrumentation } from '../instrumentation.js';
import { optionalFunction } from '../options.js';
import type { SessionData } from '../request/agent-link.js';
import { httpErrorResponse, isAgentSessionHttpError, type AgentSessionHttpError } from '../request/http-errors.js';
import { DEFAULT_RETRY_AFTER_SECONDS, resolveMiddlewareOptions, resolveSecrets, type AgentSessionOptionsBase, type ResolvedCookie } from '../request/options.js';
import { AgentRefresh } from '../request/refresh.js';
import { newCookieSessionId } from '../request/agent-id.js';
import { startAgentRequest } from '../request/request-start.js';
import { takeLoad } from '../request/request-state.js';
import { createHttpWarning } from '../request/secure-cookie.js';
import { guardSessionSize } from './session-size-guard.js';
import { guardAgentProperty } from '../request/unmounted-agent.js';
import { AgentCookieStore } from './store.js';

export interface ExpressAgentSessionOptions extends AgentSessionOptionsBase<Request> {
  /**
   * Signs the session cookie: at least 32 random characters. An array
   * rotates secrets: the first signs new cookies, all of them verify.
   */
  secret: string | string[];
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
  onError?: ((error: AgentSessionHttpError, req: Request, res: Response, next: NextFunction) => void) | undefined;
}

type ErrorAnswer = NonNullable<ExpressAgentSessionOptions['onError']>;

/** How the request's errors are answered, left on the request for `agentSessionErrorHandler()`. */
const ANSWER = Symbol('agent-session: error answer');
type WithAnswer = Request & { [ANSWER]?: ErrorAnswer };
/** Which agentSession() middleware loaded the request's session, to tell it from another session middleware's. */
const LOADED_BY = Symbol('agent-session: session loaded by');
type WithLoader = Request & { [LOADED_BY]?: RequestHandler };

/**
 * The Express middleware: express-session with agent-session's Redis store
 * and secure defaults, plus `req.agent`. Mount it before your routes, and
 * `agentSessionErrorHandler()` after them.
 */
export function agentSession(options: ExpressAgentSessionOptions): RequestHandler {
  const config = resolveMiddlewareOptions(options, 'agentSession()', ['secret', 'onError']);
  const secrets = resolveSecrets(options.secret, {
    name: '`secret`',
    example: 'agentSession({ redis, secret: process.env.SESSION_SECRET })',
  });
  const answerWith =
    optionalFunction<ErrorAnswer>('onError', options.onError, 'a function (error, req, res, next) that answers the request') ??
    defaultAnswer(config.retryAfterSeconds);
  const answer: ErrorAnswer = (error, req, res, next) => {
    instrumentation?.requestRefused(error, res);
    answerWith(error, req, res, next);
  };
  const { cookie } = config;
  const loadSession = session({
    store: new AgentCookieStore({
      redis: config.redis,
      client: options.redis.client,
      prefix: config.sessionPrefix,
      refresh: new AgentRefresh(config.agents, config.redis, config.log, config.idleTimeoutMs),
      idleTimeoutMs: config.idleTimeoutMs,
      maxSessionBytes: config.maxSessionBytes,
      log: config.log,
    }),
    secret: secrets,
    // Ids that carry the agent session's id as a hash tag (see newCookieSessionId).
    genid: (req) => newCookieSessionId(req.session as unknown as SessionData | undefined),
    name: cookie.name,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: {
      httpOnly: cookie.httpOnly,
      // express-session itself never sends a Secure cookie over http, and
      // resolves 'auto' per request from req.secure (Express's trust proxy).
      secure: cookie.secure,
      sameSite: cookie.sameSite,
      maxAge: config.idleTimeoutMs,
      path: cookie.path,
      ...(cookie.domain !== undefined ? { domain: cookie.domain } : {}),
    },
  });
  const warnIfHttp = createHttpWarning(cookie.secure, config.log);
  guardAgentProperty(express.request, 'req.agent', 'app.use(agentSession(...))');

  return function agentSessionMiddleware(req, res, next) {
    const loadedBy = (req as WithLoader)[LOADED_BY];
    // The same middleware met twice (mounted on the app and a router): the session and req.agent are already there.
    if (loadedBy === agentSessionMiddleware) return next();
    // express-session leaves a req.session it finds alone, so ours would silently not load: refuse instead.
    if (req.session !== undefined) return next(loadedBy ? new ConfigError(MOUNTED_TWICE) : new ConfigError(FOREIGN_SESSION));
    (req as WithLoader)[LOADED_BY] = agentSessionMiddleware;
    instrumentation?.requestStarted(res);
    (req as WithAnswer)[ANSWER] = answer;
    let routed = false;
    // The size guard answered 413; express-session's save then fails on the same size, which is no news.
    let refusedForSize = false;
    loadSession(req, res, (error?: unknown) => {
      if (routed) {
        // express-session reports a failed save or refresh by calling next()
        // again, once the response is already under way: log it rather than
        // run the routes a second time.
        if (error && !(refusedForSize && error instanceof AgentPayloadTooLargeError)) config.log({ type: 'error', code: 'session_commit_failed', message: `The session could not be saved: ${describe(error)}` });
        return;
      }
      routed = true;
      // This runs inside express-session's store callback: whatever throws
      // here (an onError of the app's, say) goes to the app's error handler,
      // so the request is still answered.
      if (error && !isAgentSessionHttpError(error)) return next(error);
      try {
        // A failed load (Redis unavailable) is answered here, not left to the app's error handler.
        if (isAgentSessionHttpError(error)) return answer(error, req, res, next);
        warnIfHttp(req.secure);
        guardSessionSize(req, res, config.maxSessionBytes, (error) => {
          refusedForSize = true;
          answer(error, req, res, next);
        });
        if (req.session) adoptCookieSettings(req.session.cookie, cookie, req.secure, config.idleTimeoutMs);
        const data = () => req.session as unknown as SessionData | undefined;
        req.agent = startAgentRequest(config.agents, { data, id: () => req.sessionID }, () => config.userOf(req), takeLoad(req));
      } catch (failure) {
        return next(failure);
      }
      next();
    });
  };
}

/**
 * express-session rebuilds a loaded session's cookie from the flags and max
 * age stored with it, so a session written by the app's previous
 * express-session setup (or before a change of these options) would keep its
 * old flags and lifetime for as long as it is used. Each request puts
 * agent-session's settings on it instead; for a session agent-session
 * created, nothing changes.
 */
function adoptCookieSettings(stored: session.Cookie, cookie: ResolvedCookie, secureRequest: boolean, idleTimeoutMs: number): void {
  stored.httpOnly = cookie.httpOnly;
  stored.secure = cookie.secure === 'auto' ? secureRequest : cookie.secure;
  stored.sameSite = cookie.sameSite;
  stored.path = cookie.path;
  stored.domain = cookie.domain;
  if (stored.originalMaxAge !== idleTimeoutMs) {
    stored.originalMaxAge = idleTimeoutMs;
    stored.maxAge = idleTimeoutMs;
  }
}

const FOREIGN_SESSION =
  'agentSession() found req.session already set by another session middleware (express-session, cookie-session, ...) that runs before it. ' +
  "agent-session must own the cookie session: otherwise its secure cookie defaults, idle timeout and Redis store do not apply, and req.agent would live in the other middleware's session. " +
  'Either remove your own session middleware and let agentSession() own the session (to keep users logged in, pass your cookie name as `cookie.name`, ' +
  "your secret as `secret`, and connect-redis's key prefix as `sessionKeyPrefix`; see \"Migrating from express-session\" in the README), " +
  'or keep both apart: mount your session middleware and agentSession() on different routers, so that no request passes through both, with different cookie names.';

const MOUNTED_TWICE =
  'Two agentSession() middlewares ran on the same request: create it once (const agent = agentSession({ ... })) and mount that one instance wherever it is needed.';

/**
 * Answers the errors the middleware answers (see `onError`) when routes throw
 * them (a `req.agent` call while Redis or the archive is down, for another
 * user's session, or a write refused by a full archive backlog) the way the
 * middleware does; passes every other error on. Mount it after your routes
 * and before your own error handler.
 */
export function agentSessionErrorHandler(): ErrorRequestHandler {
  return function agentSessionErrors(error, req, res, next) {
    if (!isAgentSessionHttpError(error) || res.headersSent) return next(error);
    const answer = (req as WithAnswer)[ANSWER] ?? defaultAnswer(DEFAULT_RETRY_AFTER_SECONDS);
    answer(error, req, res, next);
  };
}

function defaultAnswer(retryAfterSeconds: number): ErrorAnswer {
  return (error, _req, res, next) => {
    if (res.headersSent) return next(error);
    const { status, headers, body } = httpErrorResponse(error, retryAfterSeconds);
    res.status(status).set(headers).json(body);
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
