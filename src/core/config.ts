import { ConfigError } from '../errors.js';
import { knownKeys, oneOf, optionalString, optionsObject, wholeMs, wholeNumber } from '../options.js';
import type { RedisCommandClient } from '../redis/client.js';
import { resolveFailFastMs } from '../redis/options.js';
import { ArchiveRegistry } from './archive-registry.js';
import type { ColdTier } from './cold-tier.js';
import { archiveIndexKey } from './keys.js';

/** What the store needs of a Redis connection (a `RedisConnection` from `connectRedis()` is one). */
export interface StoreRedis {
  readonly client: RedisCommandClient;
  readonly failFastMs: number;
}

export interface AgentStoreLimits {
  /** Largest turn content, in UTF-8 bytes. Default 32 KiB. */
  turnContentBytes?: number | undefined;
  /** Largest metadata value (model, currentTask, app fields...), in UTF-8 bytes. Default 4 KiB. */
  metaValueBytes?: number | undefined;
  /** Largest tool-call arguments, result or error, as JSON, in UTF-8 bytes. Default 64 KiB. */
  toolPayloadBytes?: number | undefined;
  /** Largest observer notes, as JSON, in UTF-8 bytes. Default 256 KiB. */
  notesBytes?: number | undefined;
}

export interface AgentStoreOptions {
  redis: StoreRedis;
  /** Prepended to every key. Default "agent:". */
  keyPrefix?: string | undefined;
  /** Idle timeout: every write or touch resets the TTL of all the session's keys to this. Default 1 h. */
  idleTimeoutMs?: number | undefined;
  /** How many of the newest turns are kept. Default 50. */
  maxTurns?: number | undefined;
  /**
   * How many tool calls a session keeps: past it, the oldest finished calls
   * leave (pending calls never do). Default 50.
   */
  maxToolCalls?: number | undefined;
  /**
   * How long an idempotency key of `appendTurn` / `startToolCall` is kept
   * (ms): a repeat within it returns the first result. Default: the idle
   * timeout (1 h), at most 7 days.
   */
  idempotencyTtlMs?: number | undefined;
  /** Most idempotency keys kept per session (the oldest leave first). Default 256. */
  maxIdempotencyKeys?: number | undefined;
  limits?: AgentStoreLimits | undefined;
  /** Bounds of the observation queues this store adds jobs to; see `ObserverQueueOptions`. */
  observerQueue?: ObserverQueueOptions | undefined;
  /**
   * The cold tier: with it, every change is also queued in the session's
   * archive backlog for the archiver to copy into PostgreSQL, and sessions
   * whose keys left Redis can be resumed from there.
   */
  archive?: StoreArchiveOptions | undefined;
  /**
   * Session events (README "Session events"): every change publishes one
   * event on the session's channel, from the script that makes it. Default
   * true; false publishes nothing (`subscribe()` then hears nothing from
   * this store's writes).
   */
  events?: boolean | undefined;
}

/**
 * Bounds of an observer kind's queue (a stream), so that it stays small
 * while no worker runs or the workers fall behind. Every XADD (a request, a
 * rerun) trims it, and so does every worker poll. A job that leaves by the
 * bound is dropped, not run: the next observation request of its session
 * queues a new one.
 */
export interface ObserverQueueOptions {
  /** Most jobs a queue holds; past it the oldest leave. Default 100,000. */
  maxLength?: number | undefined;
  /**
   * How long a job may wait (ms); older ones leave. Default: the idle
   * timeout (a job that old belongs to an expired session, or to one that
   * has asked again since). Give the worker the same value as the app.
   */
  maxAgeMs?: number | undefined;
}

/** The bounds of an observer queue, resolved. */
export interface ObserverQueueBounds {
  maxLength: number;
  maxAgeMs: number;
}

export interface StoreArchiveOptions {
  /** The archive to resume from and erase in: `createPgArchive()` from agent-session/archive. */
  tier: ColdTier;
  /**
   * Most changes one session's backlog holds while the archiver is down or
   * behind; a write past it is refused (`ArchiveBacklogFullError`, a 503)
   * rather than lost. Default 10,000.
   */
  maxBacklog?: number | undefined;
  /** How long a backlog outlives its last change (ms): an archiver down longer than this loses it. Default 7 days. */
  backlogTtlMs?: number | undefined;
  /** How often one process re-announces a session with pending changes to the archiver (ms). Default 30 s. */
  registerEveryMs?: number | undefined;
}

export interface ArchiveConfig {
  tier: ColdTier;
  /** ARGV[3] of the scripts that archive: '<maxBacklog>:<backlogTtlMs>'. */
  spec: string;
  registry: ArchiveRegistry;
}

export interface StoreConfig {
  client: RedisCommandClient;
  failFastMs: number;
  keyPrefix: string;
  idleTimeoutMs: number;
  maxTurns: number;
  maxToolCalls: number;
  /** ARGV of the scripts that take an idempotency key: '<idempotencyTtlMs>:<maxIdempotencyKeys>'. */
  idempotencySpec: string;
  limits: Required<AgentStoreLimits>;
  observerQueue: ObserverQueueBounds;
  archive?: ArchiveConfig;
  /** The events argument of the scripts that change a session: '' (off), 'PUBLISH', or 'SPUBLISH' on a Cluster (lua/includes/events.lua). */
  events: '' | 'PUBLISH' | 'SPUBLISH';
}

/** The largest turn window a store accepts (`maxTurns`). */
export const MAX_TURNS = 100_000;

/** The largest tool-call window (`maxToolCalls`) and idempotency ring (`maxIdempotencyKeys`) a store accepts. */
export const MAX_TOOL_CALLS = 100_000;
export const MAX_IDEMPOTENCY_KEYS = 100_000;
/** The longest time an idempotency key is kept (`idempotencyTtlMs`): 7 days. */
export const MAX_IDEMPOTENCY_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export const STORE_DEFAULTS = {
  keyPrefix: 'agent:',
  idleTimeoutMs: 60 * 60 * 1000,
  maxTurns: 50,
  maxToolCalls: 50,
  maxIdempotencyKeys: 256,
  observerQueue: {
    maxLength: 100_000,
  },
  limits: {
    turnContentBytes: 32 * 1024,
    metaValueBytes: 4 * 1024,
    toolPayloadBytes: 64 * 1024,
    notesBytes: 256 * 1024,
  },
  archive: {
    maxBacklog: 10_000,
    backlogTtlMs: 7 * 24 * 60 * 60 * 1000,
    registerEveryMs: 30_000,
  },
} as const;

const STORE_OPTIONS = ['redis', 'keyPrefix', 'idleTimeoutMs', 'maxTurns', 'maxToolCalls', 'idempotencyTtlMs', 'maxIdempotencyKeys', 'limits', 'observerQueue', 'archive', 'events'];
const OBSERVER_QUEUE_OPTIONS = ['maxLength', 'maxAgeMs'] satisfies Array<keyof ObserverQueueOptions>;
const ARCHIVE_OPTIONS = ['tier', 'maxBacklog', 'backlogTtlMs', 'registerEveryMs'];
const LIMITS = ['turnContentBytes', 'metaValueBytes', 'toolPayloadBytes', 'notesBytes'] satisfies Array<keyof AgentStoreLimits>;

/** Checks the `redis` option of anything that talks to Redis; `usage` shows a correct call. */
export function checkRedisOption(redis: unknown, usage: string): asserts redis is StoreRedis {
  const candidate = redis as Partial<StoreRedis> | undefined;
  if (!candidate || typeof candidate.client?.evalSha !== 'function') {
    throw new ConfigError(`\`redis\` must be a connection from connectRedis(), e.g. ${usage}.`);
  }
}

/**
 * The rules of the store's options, one per option. The request layer and
 * the observer worker take some of the same options and check them with
 * these, so an option is accepted or refused alike wherever it is given.
 */

/** A key prefix: the app's store, its cookie sessions and the observer worker must agree on it. */
export function resolveKeyPrefix(value: unknown): string {
  return (
    optionalString('keyPrefix', value, {
      must:
        'a string of at most 64 characters without "{", "}" or spaces (braces would break Cluster hash tags), ' +
        'and the same in the app and the observer worker',
      valid: (prefix) => prefix.length <= 64 && !/[{}\s]/.test(prefix),
    }) ?? STORE_DEFAULTS.keyPrefix
  );
}

export function resolveIdleTimeoutMs(value: unknown): number {
  return wholeMs('idleTimeoutMs', value, STORE_DEFAULTS.idleTimeoutMs);
}

export function resolveMaxTurns(value: unknown): number {
  return wholeNumber('maxTurns', value, STORE_DEFAULTS.maxTurns, { max: MAX_TURNS });
}

export function resolveMaxToolCalls(value: unknown): number {
  return wholeNumber('maxToolCalls', value, STORE_DEFAULTS.maxToolCalls, { max: MAX_TOOL_CALLS });
}

/** '<ttlMs>:<maxKeys>' for the scripts; the time kept defaults to the idle timeout. */
export function resolveIdempotencySpec(ttlValue: unknown, maxValue: unknown, idleTimeoutMs: number): string {
  const ttlMs = wholeMs('idempotencyTtlMs', ttlValue, Math.min(idleTimeoutMs, MAX_IDEMPOTENCY_TTL_MS), { max: MAX_IDEMPOTENCY_TTL_MS });
  const maxKeys = wholeNumber('maxIdempotencyKeys', maxValue, STORE_DEFAULTS.maxIdempotencyKeys, { max: MAX_IDEMPOTENCY_KEYS });
  return `${ttlMs}:${maxKeys}`;
}

/** The largest observer queue bound (`observerQueue.maxLength`) a store or worker accepts. */
export const MAX_OBSERVER_QUEUE_LENGTH = 100_000_000;

/**
 * `observerQueue`, as the store, the middleware and the observer worker take
 * it; the age bound defaults to `defaultAgeMs` (the store's idle timeout).
 */
export function resolveObserverQueue(value: unknown, defaultAgeMs: number): ObserverQueueBounds {
  if (value === undefined) return { maxLength: STORE_DEFAULTS.observerQueue.maxLength, maxAgeMs: defaultAgeMs };
  optionsObject(value, '`observerQueue` must be an object, e.g. { maxLength: 100000, maxAgeMs: 3600000 }.');
  knownKeys(value, OBSERVER_QUEUE_OPTIONS, { path: 'observerQueue.' });
  return {
    maxLength: wholeNumber('observerQueue.maxLength', value.maxLength, STORE_DEFAULTS.observerQueue.maxLength, { max: MAX_OBSERVER_QUEUE_LENGTH }),
    maxAgeMs: wholeMs('observerQueue.maxAgeMs', value.maxAgeMs, defaultAgeMs),
  };
}

/** One of the size limits; `name` is where it was given (`limits.notesBytes` to the store, `notesBytes` to the worker). */
export function resolveLimit(limit: keyof AgentStoreLimits, name: string, value: unknown): number {
  return wholeNumber(name, value, STORE_DEFAULTS.limits[limit], { unit: 'bytes' });
}

/** The one place store options are checked and defaulted. */
export function resolveStoreConfig(options: AgentStoreOptions): StoreConfig {
  optionsObject(options, 'createAgentStore() needs an options object: createAgentStore({ redis: await connectRedis({ url }) }).');
  knownKeys(options, STORE_OPTIONS, { what: 'createAgentStore()' });
  const { redis } = options;
  checkRedisOption(redis, 'createAgentStore({ redis: await connectRedis({ url: process.env.REDIS_URL }) })');
  const limits = options.limits ?? {};
  optionsObject(limits, '`limits` must be an object of byte sizes, e.g. { turnContentBytes: 65536 }.');
  knownKeys(limits, LIMITS, { path: 'limits.' });
  const failFastMs = resolveFailFastMs('redis.failFastMs', redis.failFastMs);
  const keyPrefix = resolveKeyPrefix(options.keyPrefix);
  const archive = resolveArchive(options.archive, redis.client, keyPrefix, failFastMs);
  const idleTimeoutMs = resolveIdleTimeoutMs(options.idleTimeoutMs);
  return {
    client: redis.client,
    failFastMs,
    keyPrefix,
    idleTimeoutMs,
    maxTurns: resolveMaxTurns(options.maxTurns),
    maxToolCalls: resolveMaxToolCalls(options.maxToolCalls),
    idempotencySpec: resolveIdempotencySpec(options.idempotencyTtlMs, options.maxIdempotencyKeys, idleTimeoutMs),
    observerQueue: resolveObserverQueue(options.observerQueue, idleTimeoutMs),
    limits: {
      turnContentBytes: resolveLimit('turnContentBytes', 'limits.turnContentBytes', limits.turnContentBytes),
      metaValueBytes: resolveLimit('metaValueBytes', 'limits.metaValueBytes', limits.metaValueBytes),
      toolPayloadBytes: resolveLimit('toolPayloadBytes', 'limits.toolPayloadBytes', limits.toolPayloadBytes),
      notesBytes: resolveLimit('notesBytes', 'limits.notesBytes', limits.notesBytes),
    },
    events: resolveEvents(options.events, redis.client),
    ...(archive ? { archive } : {}),
  };
}

/** Sharded pub/sub on a Cluster, so that the publish stays on the node of the session's slot. */
export function resolveEvents(value: unknown, client: RedisCommandClient): StoreConfig['events'] {
  if (!oneOf('events', value, [true, false], true, 'true (the default) or false')) return '';
  return 'nodeClient' in client ? 'SPUBLISH' : 'PUBLISH';
}

function resolveArchive(value: StoreArchiveOptions | undefined, client: RedisCommandClient, keyPrefix: string, failFastMs: number): ArchiveConfig | undefined {
  if (value === undefined) return undefined;
  optionsObject(value, '`archive` must be an object: { tier: createPgArchive({ connectionString }) }.');
  knownKeys(value, ARCHIVE_OPTIONS, { path: 'archive.' });
  const { tier } = value;
  if (typeof tier !== 'object' || tier === null || typeof tier.loadForRestore !== 'function' || typeof tier.erase !== 'function') {
    throw new ConfigError('`archive.tier` must be the archive from createPgArchive() (agent-session/archive).');
  }
  const defaults = STORE_DEFAULTS.archive;
  const maxBacklog = wholeNumber('archive.maxBacklog', value.maxBacklog, defaults.maxBacklog);
  const backlogTtlMs = wholeMs('archive.backlogTtlMs', value.backlogTtlMs, defaults.backlogTtlMs);
  const registerEveryMs = wholeMs('archive.registerEveryMs', value.registerEveryMs, defaults.registerEveryMs);
  return {
    tier,
    spec: `${maxBacklog}:${backlogTtlMs}`,
    registry: new ArchiveRegistry(client, archiveIndexKey(keyPrefix), failFastMs, registerEveryMs),
  };
}
