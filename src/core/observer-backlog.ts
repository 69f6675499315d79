import type { RedisCommandClient } from '../redis/client.js';
import { runScript } from '../redis/script.js';
import { observerQueueKey } from './keys.js';
import { OBSERVER_BACKLOG } from './scripts.js';

/**
 * How far behind an observer kind is, for monitoring (the store's
 * `observerBacklog()`, the worker's `backlog()`).
 */
export interface ObserverBacklog {
  /** Jobs in the queue: waiting, or received by a worker and not yet done. */
  length: number;
  /** Jobs a worker received and has not acknowledged yet (running, or left by a worker that stopped). */
  pending: number;
  /** Age of the oldest job in the queue (ms, Redis clock); null when the queue is empty. */
  oldestAgeMs: number | null;
}

/** One read-only round trip: XLEN, the XPENDING summary and the first entry (XRANGE), in a script. */
export async function readObserverBacklog(client: RedisCommandClient, keyPrefix: string, kind: string, failFastMs: number): Promise<ObserverBacklog> {
  const reply = (await runScript(client, OBSERVER_BACKLOG, [observerQueueKey(keyPrefix, kind)], [kind], failFastMs)) as [number, number, number];
  const [length, pending, oldest] = reply.map(Number) as [number, number, number];
  return { length, pending, oldestAgeMs: oldest < 0 ? null : oldest };
}
