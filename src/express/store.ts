import { RedisStore } from 'connect-redis';
import type { Request } from 'express';
import type { SessionData as ExpressSessionData } from 'express-session';
import { carryLink, readLink, type SessionData } from '../request/agent-link.js';
import type { CookieSessionRedis } from '../request/cookie-session-redis.js';
import type { AgentSessionEvent } from '../request/events.js';
import type { AgentRefresh } from '../request/refresh.js';
import { oversizedSession } from '../request/input-limits.js';
import { carryRequestState, recordLoad, requestStateOf, takeLoad } from '../request/request-state.js';
import { isRecord, parseStoredSession } from '../request/stored-session.js';

/** express-session's store callback: an error, or null and the result. */
type Callback<T> = (error: unknown, result?: T) => void;

export interface AgentCookieStoreOptions {
  redis: CookieSessionRedis;
  /** Passed to connect-redis for the admin methods it keeps (all, ids, length, clear). */
  client: unknown;
  prefix: string;
  /** Resets the agent keys' TTL alongside each write or extension of a cookie session. */
  refresh: AgentRefresh;
  idleTimeoutMs: number;
  /** Largest value stored; a larger one is refused (`AgentPayloadTooLargeError`) and nothing is written. */
  maxSessionBytes: number;
  log: (event: AgentSessionEvent) => void;
}

/**
 * connect-redis's `RedisStore` on agent-session's Redis connection, changed
 * where agent-session needs it:
 * - every command is bounded by the fail-fast deadline and fails with
 *   `StoreUnavailableError` (the middleware answers 503);
 * - a stored value that cannot be read is no session (a fresh one starts)
 *   rather than an error, and is reported without its content;
 * - `get` extends the session and keeps its agent session alive in the
 *   same round trip; `set` and `touch` send only what that did not cover
 *   (see `AgentRefresh`), with millisecond TTLs equal to the cookie's
 *   remaining lifetime;
 * - `regenerate` carries the agent session over to the new cookie session,
 *   so logging in (which should regenerate) keeps the conversation;
 * - a value over `maxSessionBytes` is refused (`AgentPayloadTooLargeError`)
 *   before anything is sent: the session stays as Redis had it (the
 *   middleware answers 413 when the response is still unsent, see
 *   session-size-guard.ts);
 * - a callback that throws is reported, never left as a rejected promise
 *   (express-session ignores the promises).
 * connect-redis still provides `all`, `ids`, `length` and `clear`.
 */
export class AgentCookieStore extends RedisStore {
  readonly #redis: CookieSessionRedis;
  readonly #refresh: AgentRefresh;
  readonly #idleTimeoutMs: number;
  readonly #maxSessionBytes: number;
  readonly #log: (event: AgentSessionEvent) => void;

  constructor(options: AgentCookieStoreOptions) {
    super({ client: options.client, prefix: options.prefix, ttl: Math.ceil(options.idleTimeoutMs / 1000) });
    this.#redis = options.redis;
    this.#refresh = options.refresh;
    this.#idleTimeoutMs = options.idleTimeoutMs;
    this.#maxSessionBytes = options.maxSessionBytes;
    this.#log = options.log;
  }

  /** Loads the session and, in the same round trip, extends it and keeps its agent session alive (see `AgentRefresh.load`). */
  override get(sid: string, callback?: Callback<ExpressSessionData | null>): Promise<ExpressSessionData | null | undefined> {
    return this.#settle(async () => {
      const key = this.prefix + sid;
      // express-session rebuilds the session's Cookie from `cookie`; without it, it would throw.
      const { data, refresh } = await this.#refresh.load(key, sid, { ttlMs: this.#idleTimeoutMs, extendAboveMs: 0, withTtl: false }, (raw) =>
        parseStoredSession(raw, key, this.#log, (value) => isRecord(value.cookie)),
      );
      if (data && refresh) recordLoad(data, refresh);
      return data as ExpressSessionData | null;
    }, callback);
  }

  /**
   * express-session turns what `get` returned into `req.session` here: what
   * the load refreshed moves to the request, for the middleware. On a
   * `req.session.reload()` the request's state follows the new object, with
   * the reload's refresh.
   */
  override createSession(req: Request, data: ExpressSessionData): ReturnType<RedisStore['createSession']> {
    const load = takeLoad(data);
    const previous = req.session as object | undefined;
    const created = super.createSession(req, data);
    const state = requestStateOf(previous);
    if (state) {
      carryRequestState(previous, created);
      if (load) state.load = load;
    } else if (load) {
      recordLoad(req, load);
    }
    return created;
  }

  override set(sid: string, session: ExpressSessionData, callback?: Callback<void>): Promise<void> {
    return this.#settle(async () => {
      const ttlMs = this.#ttlMs(session);
      if (!(ttlMs > 0)) return this.#redis.remove(this.prefix + sid);
      const data = session as unknown as SessionData;
      const value = JSON.stringify(session);
      const tooLarge = oversizedSession(value, this.#maxSessionBytes);
      if (tooLarge) throw tooLarge;
      await this.#refresh.write(this.prefix + sid, value, ttlMs, readLink(data), data);
    }, callback);
  }

  override touch(sid: string, session: ExpressSessionData, callback?: Callback<void>): Promise<void> {
    return this.#settle(async () => {
      // PEXPIRE never recreates a key that expired or was destroyed meanwhile.
      const ttlMs = this.#ttlMs(session);
      if (!(ttlMs > 0)) return this.#redis.remove(this.prefix + sid);
      const data = session as unknown as SessionData;
      await this.#refresh.extend(this.prefix + sid, ttlMs, readLink(data), data);
    }, callback);
  }

  override destroy(sid: string, callback?: Callback<void>): Promise<void> {
    return this.#settle(() => this.#redis.remove(this.prefix + sid), callback);
  }

  /** express-session's regenerate destroys the session and generates an empty one; the agent link moves across. */
  override regenerate(req: Request, callback: (error?: unknown) => void): void {
    const previous = req.session as unknown as SessionData | undefined;
    super.regenerate(req, (error?: unknown) => {
      if (req.session) {
        carryLink(previous, req.session as unknown as SessionData);
        carryRequestState(previous, req.session);
      }
      callback(error);
    });
  }

  /**
   * The cookie's remaining lifetime: the key expires when the cookie does.
   * An expiry that is not a date gives NaN, which callers treat as expired
   * (`!(ttlMs > 0)`), as connect-redis does; Redis would refuse it as a TTL.
   */
  #ttlMs(session: ExpressSessionData): number {
    const expires = session.cookie?.expires;
    return expires ? new Date(expires).getTime() - Date.now() : this.#idleTimeoutMs;
  }

  /**
   * Promise for callers that await, callback for express-session, which
   * ignores the promise. With a callback, the promise never rejects: the
   * command's error goes to the callback, and an error the callback itself
   * throws (it runs express-session and, through `next()`, the app) is
   * reported to the logger instead of becoming an unhandled rejection.
   */
  async #settle<T>(operation: () => Promise<T>, callback?: Callback<T>): Promise<T | undefined> {
    if (!callback) return operation();
    let outcome: { error: unknown } | { result: T };
    try {
      outcome = { result: await operation() };
    } catch (error) {
      outcome = { error };
    }
    try {
      if ('error' in outcome) callback(outcome.error);
      else callback(null, outcome.result);
    } catch (thrown) {
      this.#log({
        type: 'error',
        code: 'session_callback_failed',
        message: `express-session's callback threw after a session store call: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
      });
    }
    return 'error' in outcome ? undefined : outcome.result;
  }
}
