import { readLink, type SessionData } from '../request/agent-link.js';
import type { CookieSessionRedis } from '../request/cookie-session-redis.js';
import { recordLoad } from '../request/request-state.js';
import type { AgentSessionEvent } from '../request/events.js';
import type { AgentRefresh } from '../request/refresh.js';
import { oversizedSession } from '../request/input-limits.js';
import { parseStoredSession } from '../request/stored-session.js';

export interface KoaCookieStoreOptions {
  redis: CookieSessionRedis;
  prefix: string;
  /** Resets the agent keys' TTL alongside each write or extension of a cookie session. */
  refresh: AgentRefresh;
  idleTimeoutMs: number;
  /** Largest value stored; a larger one is refused (`AgentPayloadTooLargeError`) and nothing is written. */
  maxSessionBytes: number;
  log: (event: AgentSessionEvent) => void;
}

/**
 * How long a session is kept past its max age, so that a request that comes
 * back just after the end is told `session:expired` (koa-session's event)
 * rather than `session:missed`: koa-session itself asks a store to keep a
 * session this much longer than its cookie, and koa-redis does.
 */
export const EXPIRED_GRACE_MS = 10_000;

/** What koa-session passes to a store besides the key (and, for set, the data and max age). */
interface StoreCallOptions {
  ctx?: unknown;
  changed?: boolean;
  rolling?: boolean;
}

/**
 * koa-session's external store on agent-session's Redis connection (koa-redis
 * is tied to ioredis 4; this is the same three methods on node-redis).
 *
 * - The Redis TTL is the cookie's max age plus `EXPIRED_GRACE_MS`. koa-session's
 *   own `_expire` field is not stored (it would change on every request, and
 *   an unchanged session is only extended, never rewritten); `get` derives it
 *   from the key's remaining TTL, so koa-session still tells an expired
 *   session (`session:expired`, within the grace) from a missing one
 *   (`session:missed`), and refuses a session past its max age.
 * - A session that did not change since this request loaded (or last wrote)
 *   it has its expiry extended with PEXPIRE instead of being rewritten, and
 *   a PEXPIRE never recreates a key that expired or was destroyed (a logout in
 *   another tab stays a logout). koa-session's `changed` flag is not enough on
 *   its own: a forced save (regenerate, save(), a changed maxAge) reports
 *   `changed: false` for data that did change, so the value is compared.
 * - Loading the cookie session extends it and resets the agent keys' TTL in
 *   the same round trip; `set` sends only what that did not cover (see
 *   `AgentRefresh`).
 * - A stored value that cannot be read is no session (koa-session starts a
 *   fresh one) rather than an error, and is reported without its content.
 * - Every command is bounded by the fail-fast deadline (`StoreUnavailableError`).
 * - A changed value over `maxSessionBytes` is refused (`AgentPayloadTooLargeError`,
 *   which the middleware answers 413) before anything is sent: the session
 *   stays as Redis had it.
 */
export class KoaCookieStore {
  readonly #redis: CookieSessionRedis;
  readonly #prefix: string;
  readonly #refresh: AgentRefresh;
  readonly #idleTimeoutMs: number;
  readonly #maxSessionBytes: number;
  readonly #log: (event: AgentSessionEvent) => void;
  /** Per request (keyed by its context): the value Redis holds for each session key this request read or wrote. */
  readonly #known = new WeakMap<object, Map<string, string>>();

  constructor(options: KoaCookieStoreOptions) {
    this.#redis = options.redis;
    this.#prefix = options.prefix;
    this.#refresh = options.refresh;
    this.#idleTimeoutMs = options.idleTimeoutMs;
    this.#maxSessionBytes = options.maxSessionBytes;
    this.#log = options.log;
  }

  /**
   * Loads the session and, in the same round trip, extends it (unless it is
   * past its max age, within the grace) and keeps its agent session alive
   * (see `AgentRefresh.load`); `_expire` comes from the PTTL it had before.
   */
  async get(key: string, _maxAge: unknown, options: StoreCallOptions = {}): Promise<SessionData | null> {
    const redisKey = this.#prefix + key;
    const { ctx } = options;
    const loaded = await this.#refresh.load(
      redisKey,
      key,
      { ttlMs: this.#idleTimeoutMs + EXPIRED_GRACE_MS, extendAboveMs: EXPIRED_GRACE_MS, withTtl: true },
      (raw) => parseStoredSession(raw, redisKey, this.#log),
    );
    const { data, raw } = loaded;
    if (!data || raw === undefined) return null;
    if (loaded.refresh && typeof ctx === 'object' && ctx !== null) recordLoad(ctx, loaded.refresh);
    this.#knownValues(ctx)?.set(key, raw);
    // -1: a key without a TTL (not one this store wrote); koa-session then goes by a stored _expire, if any.
    if (loaded.pttlMs >= 0) data._expire = Date.now() + loaded.pttlMs - EXPIRED_GRACE_MS;
    return data;
  }

  async set(key: string, data: SessionData, _maxAge: unknown, options: StoreCallOptions = {}): Promise<void> {
    const { _expire: _ignored, ...kept } = data;
    const value = JSON.stringify(kept);
    const ttlMs = (typeof kept._maxAge === 'number' && kept._maxAge > 0 ? kept._maxAge : this.#idleTimeoutMs) + EXPIRED_GRACE_MS;
    const known = this.#knownValues(options.ctx);
    const redisKey = this.#prefix + key;
    const session = (options.ctx as { session?: object | null } | undefined)?.session ?? undefined;
    const unchanged = known?.get(key) === value;
    const tooLarge = unchanged ? undefined : oversizedSession(value, this.#maxSessionBytes);
    if (tooLarge) throw tooLarge;
    if (unchanged) await this.#refresh.extend(redisKey, ttlMs, readLink(kept), session);
    else await this.#refresh.write(redisKey, value, ttlMs, readLink(kept), session);
    known?.set(key, value);
  }

  async destroy(key: string, options: StoreCallOptions = {}): Promise<void> {
    await this.#redis.remove(this.#prefix + key);
    this.#knownValues(options.ctx)?.delete(key);
  }

  #knownValues(ctx: unknown): Map<string, string> | undefined {
    if (typeof ctx !== 'object' || ctx === null) return undefined;
    let known = this.#known.get(ctx);
    if (!known) this.#known.set(ctx, (known = new Map()));
    return known;
  }
}
