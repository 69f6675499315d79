import { RedisStore } from 'connect-redis';
import type { Request } from 'express';
import type { SessionData as ExpressSessionData } from 'express-session';
import type { AgentStore } from '../core/agent-store.js';
import { carryLink, readLink, type SessionData } from '../middleware/agent-link.js';
import type { CookieSessionRedis } from '../middleware/cookie-session-redis.js';
import { withAgentRefresh } from '../middleware/refresh.js';

type Callback = (error?: unknown, data?: any) => void;

export interface AgentCookieStoreOptions {
  redis: CookieSessionRedis;
  /** Passed to connect-redis for the admin methods it keeps (all, ids, length, clear). */
  client: unknown;
  prefix: string;
  agents: AgentStore;
  idleTimeoutMs: number;
}

/**
 * connect-redis's `RedisStore` on agent-session's Redis connection, changed
 * where agent-session needs it:
 * - every command is bounded by the fail-fast deadline and fails with
 *   `StoreUnavailableError` (the middleware answers 503);
 * - `set` and `touch` reset the TTL of the agent session's keys in the same
 *   round trip (see `withAgentRefresh`), with millisecond TTLs equal to the
 *   cookie's remaining lifetime;
 * - `regenerate` carries the agent session over to the new cookie session,
 *   so logging in (which should regenerate) keeps the conversation.
 * connect-redis still provides `all`, `ids`, `length` and `clear`.
 */
export class AgentCookieStore extends RedisStore {
  readonly #redis: CookieSessionRedis;
  readonly #agents: AgentStore;
  readonly #idleTimeoutMs: number;

  constructor(options: AgentCookieStoreOptions) {
    super({ client: options.client, prefix: options.prefix, ttl: Math.ceil(options.idleTimeoutMs / 1000) });
    this.#redis = options.redis;
    this.#agents = options.agents;
    this.#idleTimeoutMs = options.idleTimeoutMs;
  }

  override get(sid: string, callback?: Callback): Promise<any> {
    return settle(async () => {
      const raw = await this.#redis.get(this.prefix + sid);
      return raw === null ? null : (this.serializer.parse(raw) as ExpressSessionData);
    }, callback);
  }

  override set(sid: string, session: ExpressSessionData, callback?: Callback): Promise<any> {
    return settle(async () => {
      const ttlMs = this.#ttlMs(session);
      if (ttlMs <= 0) return this.#redis.remove(this.prefix + sid);
      const value = this.serializer.stringify(session);
      await this.#refresh(session, () => this.#redis.write(this.prefix + sid, value, ttlMs));
    }, callback);
  }

  override touch(sid: string, session: ExpressSessionData, callback?: Callback): Promise<any> {
    return settle(async () => {
      // PEXPIRE never recreates a key that expired or was destroyed meanwhile.
      await this.#refresh(session, () => this.#redis.extend(this.prefix + sid, this.#ttlMs(session)));
    }, callback);
  }

  override destroy(sid: string, callback?: Callback): Promise<any> {
    return settle(() => this.#redis.remove(this.prefix + sid), callback);
  }

  /** express-session's regenerate destroys the session and generates an empty one; the agent link moves across. */
  override regenerate(req: Request, callback: (error?: unknown) => void): void {
    const previous = req.session as unknown as SessionData | undefined;
    super.regenerate(req, (error?: unknown) => {
      if (req.session) carryLink(previous, req.session as unknown as SessionData);
      callback(error);
    });
  }

  #refresh<T>(session: ExpressSessionData, command: () => Promise<T>): Promise<T> {
    const data = session as unknown as SessionData;
    return withAgentRefresh(command, this.#agents, readLink(data), data);
  }

  /** The cookie's remaining lifetime: the key expires when the cookie does. */
  #ttlMs(session: ExpressSessionData): number {
    const expires = session.cookie?.expires;
    return expires ? new Date(expires).getTime() - Date.now() : this.#idleTimeoutMs;
  }
}

/** Promise for callers that await, callback for express-session. */
async function settle<T>(operation: () => Promise<T>, callback?: Callback): Promise<T | undefined> {
  let result: T;
  try {
    result = await operation();
  } catch (error) {
    if (callback) {
      callback(error);
      return undefined;
    }
    throw error;
  }
  callback?.(null, result);
  return result;
}
