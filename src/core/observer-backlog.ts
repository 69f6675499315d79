import type { RedisCommandClient } from '../redis/client.js';
import { runScript } from '../redis/script.js';
import { observerQueueKey } from './keys.js';
import { toAgentSessionError } from './script-errors.js';
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

/**
 * One read-only round trip: XLEN, the XPENDING summary and the first entry
 * (XRANGE), in a script. A queue key that is not a stream is
 * `CorruptStateError` naming it.
 */
export async function readObserverBacklog(client: RedisCommandClient, keyPrefix: string, kind: string, failFastMs: number): Promise<ObserverBacklog> {
  const key = observerQueueKey(keyPrefix, kind);
  let reply: [number, number, number];
  try {
    reply = (await runScript(client, OBSERVER_BACKLOG, [key], [kind], failFastMs)) as [number, number, number];
  } catch (error) {
    throw toAgentSessionError(error, { sessionId: '', sessionKeys: key });
  }
  const [length, pending, oldest] = reply.map(Number) as [number, number, number];
  return { length, pending, oldestAgeMs: oldest < 0 ? null : oldest };
}
