import { ConfigError } from '../errors.js';
import { topologyOf } from '../redis/client-factory.js';
import type { RedisConnection } from '../redis/types.js';
import { failFast } from '../redis/fail-fast.js';

/**
 * The commands a cookie-session store needs, each bounded by the
 * connection's fail-fast deadline: a request never waits longer than that
 * for Redis, whatever client the app handed in, and a connection failure
 * always surfaces as `StoreUnavailableError` (which the middleware turns
 * into a 503).
 *
 * TTLs are in milliseconds (PX / PEXPIRE): the key must expire when the
 * cookie does, not up to a second later.
 */
/** What `get` returns for a key that holds another Redis type than a string: no cookie session anyone could use. */
export const NOT_A_STRING: unique symbol = Symbol('agent-session: the cookie-session key is not a string');

export interface CookieSessionRedis {
  /** The stored value; null when missing; NOT_A_STRING when the key holds a hash, a list, ... (GET's WRONGTYPE). */
  get(key: string): Promise<string | null | typeof NOT_A_STRING>;
  /** GET and PTTL in one round trip (issued together, so pipelined); null when the key does not exist. */
  getWithTtl(key: string): Promise<{ value: string; pttlMs: number } | null | typeof NOT_A_STRING>;
  /** SET with a TTL. */
  write(key: string, value: string, ttlMs: number): Promise<void>;
  /** PEXPIRE; false when the key no longer exists (it is not recreated). */
  extend(key: string, ttlMs: number): Promise<boolean>;
  remove(key: string): Promise<void>;
  /**
   * Whether a cookie-session key is on the same Redis node as every agent
   * key, so one script may touch both: true except on Cluster, where they
   * hash to different slots.
   */
  sharesNodeWithAgents: boolean;
}

export function cookieSessionRedis(redis: Pick<RedisConnection, 'client' | 'failFastMs'>): CookieSessionRedis {
  const { client, failFastMs: ms } = redis;
  if (['get', 'set', 'pExpire', 'pTTL', 'del'].some((command) => typeof (client as unknown as Record<string, unknown>)?.[command] !== 'function')) {
    throw new ConfigError('`redis` must be a connection from connectRedis() (its client needs get, set, pExpire, pTTL and del).');
  }
  const readString = async (key: string): Promise<string | null | typeof NOT_A_STRING> => {
    try {
      return await client.get(key);
    } catch (error) {
      // Any client's wording of Redis's WRONGTYPE reply; the reply quotes no value.
      if (error instanceof Error && /^WRONGTYPE\b/.test(error.message)) return NOT_A_STRING;
      throw error;
    }
  };
  return {
    get: (key) => failFast(() => readString(key), ms),
    getWithTtl: async (key) => {
      const [value, pttlMs] = await failFast(() => Promise.all([readString(key), client.pTTL(key)]), ms);
      if (value === NOT_A_STRING) return NOT_A_STRING;
      // -2: the key expired or was removed between the two commands.
      return value === null || pttlMs === -2 ? null : { value, pttlMs };
    },
    write: async (key, value, ttlMs) => {
      await failFast(() => client.set(key, value, { expiration: { type: 'PX', value: ttlMs } }), ms);
    },
    extend: async (key, ttlMs) => (await failFast(() => client.pExpire(key, ttlMs), ms)) === 1,
    remove: async (key) => {
      await failFast(() => client.del([key]), ms);
    },
    sharesNodeWithAgents: topologyOf(client) !== 'cluster',
  };
}
