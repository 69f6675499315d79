import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { checkKeyPrefix, checkRedisOption, positiveInteger, STORE_DEFAULTS, type StoreRedis } from '../core/config.js';
import { ConfigError } from '../errors.js';
import { assertValidId } from '../core/ids.js';
import { DEFAULT_OBSERVER_KIND } from '../core/keys.js';
import { DEFAULT_FAIL_FAST_MS } from '../redis/fail-fast.js';
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
export function exponentialBackoff(options: { initialMs?: number; maxMs?: number } = {}): (failedAttempt: number) => number {
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
  logger: (event: ObserverEvent) => void;
  /** Lease extension and job refresh period: a third of the shorter of leaseMs and claimIdleMs. */
  heartbeatMs: number;
  /** How often the pending list is scanned for jobs to reclaim. */
  reclaimEveryMs: number;
}

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
  if (!options || typeof options !== 'object') {
    throw new ConfigError('createObserverWorker() needs an options object: createObserverWorker({ redis: await connectRedis({ url }), analyze }).');
  }
  checkRedisOption(options.redis, 'createObserverWorker({ redis: await connectRedis({ url }), analyze })');
  if (typeof options.analyze !== 'function') {
    throw new ConfigError('`analyze` must be a function ({ sessionId, meta, turns, previousNotes, signal }) => notes (or a promise of them).');
  }
  const kind = options.kind ?? OBSERVER_DEFAULTS.kind;
  try {
    assertValidId(kind, 'observer kind');
  } catch (error) {
    throw new ConfigError(`\`kind\`: ${(error as Error).message}`);
  }
  const keyPrefix = checkKeyPrefix(options.keyPrefix);
  if (options.retryBackoff !== undefined && typeof options.retryBackoff !== 'function') {
    throw new ConfigError('`retryBackoff` must be a function (failedAttempt) => delay in ms, e.g. exponentialBackoff({ initialMs: 500 }).');
  }
  if (options.logger !== undefined && typeof options.logger !== 'function') {
    throw new ConfigError('`logger` must be a function that receives each observer event.');
  }
  const consumerName = options.consumerName ?? `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  if (typeof consumerName !== 'string' || consumerName.length === 0 || consumerName.length > 200 || /\s/.test(consumerName)) {
    throw new ConfigError('`consumerName` must be a non-empty string of at most 200 characters without spaces.');
  }
  const leaseMs = positiveInteger('leaseMs', options.leaseMs, OBSERVER_DEFAULTS.leaseMs);
  const claimIdleMs = positiveInteger('claimIdleMs', options.claimIdleMs, OBSERVER_DEFAULTS.claimIdleMs);
  const pollIntervalMs = positiveInteger('pollIntervalMs', options.pollIntervalMs, OBSERVER_DEFAULTS.pollIntervalMs);
  return {
    redis: options.redis,
    failFastMs: positiveInteger('redis.failFastMs', options.redis.failFastMs, DEFAULT_FAIL_FAST_MS),
    analyze: options.analyze,
    concurrency: positiveInteger('concurrency', options.concurrency, OBSERVER_DEFAULTS.concurrency, 1_000),
    kind,
    keyPrefix,
    leaseMs,
    claimIdleMs,
    maxAttempts: positiveInteger('maxAttempts', options.maxAttempts, OBSERVER_DEFAULTS.maxAttempts, 100),
    retryBackoff: options.retryBackoff ?? exponentialBackoff(),
    pollIntervalMs,
    stopGraceMs: positiveInteger('stopGraceMs', options.stopGraceMs, OBSERVER_DEFAULTS.stopGraceMs),
    consumerName,
    notesBytes: positiveInteger('notesBytes', options.notesBytes, STORE_DEFAULTS.limits.notesBytes),
    logger: options.logger ?? defaultLogger,
    heartbeatMs: Math.max(10, Math.floor(Math.min(leaseMs, claimIdleMs) / 3)),
    reclaimEveryMs: Math.max(pollIntervalMs, Math.min(Math.floor(claimIdleMs / 2), 5_000)),
  };
}
