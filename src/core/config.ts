import { ConfigError } from '../errors.js';
import type { RedisCommandClient } from '../redis/client.js';
import { DEFAULT_FAIL_FAST_MS } from '../redis/fail-fast.js';

/** What the store needs of a Redis connection (a `RedisConnection` from `connectRedis()` is one). */
export interface StoreRedis {
  readonly client: RedisCommandClient;
  readonly failFastMs: number;
}

export interface AgentStoreLimits {
  /** Largest turn content, in UTF-8 bytes. Default 32 KiB. */
  turnContentBytes?: number;
  /** Largest metadata value (model, currentTask, app fields...), in UTF-8 bytes. Default 4 KiB. */
  metaValueBytes?: number;
  /** Largest tool-call arguments, result or error, as JSON, in UTF-8 bytes. Default 64 KiB. */
  toolPayloadBytes?: number;
  /** Largest observer notes, as JSON, in UTF-8 bytes. Default 256 KiB. */
  notesBytes?: number;
}

export interface AgentStoreOptions {
  redis: StoreRedis;
  /** Prepended to every key. Default "agent:". */
  keyPrefix?: string;
  /** Idle timeout: every write or touch resets the TTL of all the session's keys to this. Default 1 h. */
  idleTimeoutMs?: number;
  /** How many of the newest turns are kept. Default 50. */
  maxTurns?: number;
  limits?: AgentStoreLimits;
}

export interface StoreConfig {
  client: RedisCommandClient;
  failFastMs: number;
  keyPrefix: string;
  idleTimeoutMs: number;
  maxTurns: number;
  limits: Required<AgentStoreLimits>;
}

/** The largest turn window a store accepts (`maxTurns`). */
export const MAX_TURNS = 100_000;

export const STORE_DEFAULTS = {
  keyPrefix: 'agent:',
  idleTimeoutMs: 60 * 60 * 1000,
  maxTurns: 50,
  limits: {
    turnContentBytes: 32 * 1024,
    metaValueBytes: 4 * 1024,
    toolPayloadBytes: 64 * 1024,
    notesBytes: 256 * 1024,
  },
} as const;

/** Validates an integer option and returns it, or throws a ConfigError that names it. */
export function positiveInteger(name: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ConfigError(`\`${name}\` must be a whole number from 1 to ${max}; got ${describe(value)}.`);
  }
  return value;
}

function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value;
}

/** Checks the `redis` option of anything that talks to Redis; `usage` shows a correct call. */
export function checkRedisOption(redis: unknown, usage: string): asserts redis is StoreRedis {
  const candidate = redis as Partial<StoreRedis> | undefined;
  if (!candidate || typeof candidate.client?.evalSha !== 'function') {
    throw new ConfigError(`\`redis\` must be a connection from connectRedis(), e.g. ${usage}.`);
  }
}

/** Checks a key prefix: the app's store and the observer worker must agree on it. */
export function checkKeyPrefix(value: unknown): string {
  const keyPrefix = value ?? STORE_DEFAULTS.keyPrefix;
  if (typeof keyPrefix !== 'string' || keyPrefix.length > 64 || /[{}\s]/.test(keyPrefix)) {
    throw new ConfigError(
      '`keyPrefix` must be a string of at most 64 characters without "{", "}" or spaces (braces would break Cluster hash tags), ' +
        'and the same in the app and the observer worker.',
    );
  }
  return keyPrefix;
}

/** The one place store options are checked and defaulted. */
export function resolveStoreConfig(options: AgentStoreOptions): StoreConfig {
  if (!options || typeof options !== 'object') {
    throw new ConfigError('createAgentStore() needs an options object: createAgentStore({ redis: await connectRedis({ url }) }).');
  }
  const { redis } = options;
  checkRedisOption(redis, 'createAgentStore({ redis: await connectRedis({ url: process.env.REDIS_URL }) })');
  const keyPrefix = checkKeyPrefix(options.keyPrefix);
  const limits = options.limits ?? {};
  return {
    client: redis.client,
    failFastMs: positiveInteger('redis.failFastMs', redis.failFastMs, DEFAULT_FAIL_FAST_MS),
    keyPrefix,
    idleTimeoutMs: positiveInteger('idleTimeoutMs', options.idleTimeoutMs, STORE_DEFAULTS.idleTimeoutMs),
    maxTurns: positiveInteger('maxTurns', options.maxTurns, STORE_DEFAULTS.maxTurns, MAX_TURNS),
    limits: {
      turnContentBytes: positiveInteger('limits.turnContentBytes', limits.turnContentBytes, STORE_DEFAULTS.limits.turnContentBytes),
      metaValueBytes: positiveInteger('limits.metaValueBytes', limits.metaValueBytes, STORE_DEFAULTS.limits.metaValueBytes),
      toolPayloadBytes: positiveInteger('limits.toolPayloadBytes', limits.toolPayloadBytes, STORE_DEFAULTS.limits.toolPayloadBytes),
      notesBytes: positiveInteger('limits.notesBytes', limits.notesBytes, STORE_DEFAULTS.limits.notesBytes),
    },
  };
}
