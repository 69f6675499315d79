import type { ColdTier } from '../core/cold-tier.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { checkRedisOption, resolveKeyPrefix, resolveLimit, resolveObserverQueue, STORE_DEFAULTS, type ObserverQueueBounds, type StoreRedis } from '../core/config.js';
import { ConfigError } from '../errors.js';
import { knownKeys, MAX_TIMER_MS, optionalFunction, optionalString, optionsObject, requiredFunction, wholeMs, wholeNumber } from '../options.js';
import { assertValidId } from '../core/ids.js';
import { DEFAULT_OBSERVER_KIND } from '../core/keys.js';
import { resolveFailFastMs } from '../redis/options.js';
import type { Analyze, ObserverEvent, ObserverWorkerOptions } from './types.js';

export const OBSERVER_DEFAULTS = {
  concurrency: 4,
  kind: DEFAULT_OBSERVER_KIND,
  leaseMs: 30_000,
  claimIdleMs: 60_000,
  maxAttempts: 3,
  pollIntervalMs: 250,
  stopGraceMs: 10_000,
} as const;

/**
 * Delays for retries: `initialMs` after the first failure, doubling up to
 * `maxMs`, each with up to 20% random jitter so that workers retrying the
 * same dependency spread out.
 */
export function exponentialBackoff(options: { initialMs?: number | undefined; maxMs?: number | undefined } = {}): (failedAttempt: number) => number {
  const initialMs = options.initialMs ?? 1_000;
  const maxMs = options.maxMs ?? 30_000;
  return (failedAttempt) => {
    const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, failedAttempt - 1));
    return Math.round(base * (0.8 + Math.random() * 0.2));
  };
}

export interface WorkerConfig<T> {
  redis: StoreRedis;
  failFastMs: number;
  analyze: Analyze<T>;
  concurrency: number;
  kind: string;
  keyPrefix: string;
  leaseMs: number;
  claimIdleMs: number;
  maxAttempts: number;
  retryBackoff: (failedAttempt: number) => number;
  pollIntervalMs: number;
  stopGraceMs: number;
  consumerName: string;
  notesBytes: number;
  /** The queue's bounds, applied on every poll and rerun (see core's includes/queue-bounds). */
  observerQueue: ObserverQueueBounds;
  archive?: ColdTier;
  logger: (event: ObserverEvent) => void;
  /** Lease extension and job refresh period: a third of the shorter of leaseMs and claimIdleMs. */
  heartbeatMs: number;
  /** How often the pending list is scanned for jobs to reclaim. */
  reclaimEveryMs: number;
}

const WORKER_OPTIONS = [
  'redis', 'analyze', 'concurrency', 'kind', 'keyPrefix', 'leaseMs', 'claimIdleMs', 'maxAttempts',
  'retryBackoff', 'pollIntervalMs', 'stopGraceMs', 'notesBytes', 'consumerName', 'logger', 'observerQueue', 'archive',
] satisfies Array<keyof ObserverWorkerOptions>;

/** Problems as one line each; routine events are silent. */
function defaultLogger(event: ObserverEvent): void {
  if (event.type === 'error') console.warn(`[agent-session observer:${event.kind}] ${event.error}`);
  else if (event.type === 'retry' || (event.type === 'run-finished' && event.error !== undefined)) {
    const what = event.type === 'retry' ? `attempt ${event.attempt} failed, retrying in ${event.delayMs} ms` : event.outcome;
    console.warn(`[agent-session observer:${event.kind}] session ${event.sessionId} job ${event.jobId}: ${what}: ${event.error}`);
  }
}

/** The one place worker options are checked and defaulted. */
export function resolveWorkerConfig<T>(options: ObserverWorkerOptions<T>): WorkerConfig<T> {
  optionsObject(options, 'createObserverWorker() needs an options object: createObserverWorker({ redis: await connectRedis({ url }), analyze }).');
  knownKeys(options, WORKER_OPTIONS, { what: 'createObserverWorker()' });
  checkRedisOption(options.redis, 'createObserverWorker({ redis: await connectRedis({ url }), analyze })');
  const analyze = requiredFunction<Analyze<T>>(
    'analyze',
    options.analyze,
    'a function ({ sessionId, meta, turns, previousNotes, signal }) => notes (or a promise of them)',
  );
  const kind = optionalString('kind', options.kind) ?? OBSERVER_DEFAULTS.kind;
  try {
    assertValidId(kind, 'observer kind');
  } catch (error) {
    throw new ConfigError(`\`kind\`: ${(error as Error).message}`);
  }
  const consumerName =
    optionalString('consumerName', options.consumerName, {
      must: 'a non-empty string of at most 200 characters without spaces',
      valid: (name) => name.length > 0 && name.length <= 200 && !/\s/.test(name),
    }) ?? `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const leaseMs = wholeMs('leaseMs', options.leaseMs, OBSERVER_DEFAULTS.leaseMs, { max: MAX_TIMER_MS });
  const claimIdleMs = wholeMs('claimIdleMs', options.claimIdleMs, OBSERVER_DEFAULTS.claimIdleMs);
  const pollIntervalMs = wholeMs('pollIntervalMs', options.pollIntervalMs, OBSERVER_DEFAULTS.pollIntervalMs, { max: MAX_TIMER_MS });
  return {
    redis: options.redis,
    failFastMs: resolveFailFastMs('redis.failFastMs', options.redis.failFastMs),
    analyze,
    concurrency: wholeNumber('concurrency', options.concurrency, OBSERVER_DEFAULTS.concurrency, { max: 1_000 }),
    kind,
    keyPrefix: resolveKeyPrefix(options.keyPrefix),
    leaseMs,
    claimIdleMs,
    maxAttempts: wholeNumber('maxAttempts', options.maxAttempts, OBSERVER_DEFAULTS.maxAttempts, { max: 100 }),
    retryBackoff:
      optionalFunction('retryBackoff', options.retryBackoff, 'a function (failedAttempt) => delay in ms, e.g. exponentialBackoff({ initialMs: 500 })') ??
      exponentialBackoff(),
    pollIntervalMs,
    stopGraceMs: wholeMs('stopGraceMs', options.stopGraceMs, OBSERVER_DEFAULTS.stopGraceMs, { max: MAX_TIMER_MS }),
    consumerName,
    notesBytes: resolveLimit('notesBytes', 'notesBytes', options.notesBytes),
    // The worker does not know the app's idle timeout: the age bound defaults to the store's default one.
    observerQueue: resolveObserverQueue(options.observerQueue, STORE_DEFAULTS.idleTimeoutMs),
    ...(options.archive ? { archive: coldTier(options.archive) } : {}),
    logger: optionalFunction('logger', options.logger, 'a function that receives each observer event') ?? defaultLogger,
    heartbeatMs: Math.max(10, Math.floor(Math.min(leaseMs, claimIdleMs) / 3)),
    reclaimEveryMs: Math.max(pollIntervalMs, Math.min(Math.floor(claimIdleMs / 2), 5_000)),
  };
}

function coldTier(value: unknown): ColdTier {
  if (typeof (value as Partial<ColdTier>)?.history !== 'function') {
    throw new ConfigError('`archive` must be the archive from createPgArchive() (agent-session/archive).');
  }
  return value as ColdTier;
}
