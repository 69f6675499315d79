import { setTimeout as sleep } from 'node:timers/promises';
import { reconnectDelay } from './backoff.js';
import type { EventListeners } from './events.js';
import { failFast } from './fail-fast.js';
import type { ResolvedRedisConfig } from './options.js';
import { permanentFailureHint, StartupTimeout } from './startup-error.js';
import type { NodeRedisClient, Topology } from './types.js';

/** Opening a client within the start-up deadline, and closing it within a bound. */

/** Opens the client (or waits for an app-supplied one) until its first ready, or rejects at the deadline. */
export async function openWithin(
  client: NodeRedisClient,
  topology: Topology,
  config: ResolvedRedisConfig,
  deadline: number,
  listeners: EventListeners,
): Promise<void> {
  const giveUp = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      giveUp.abort();
      reject(new StartupTimeout());
    }, Math.max(0, deadline - performance.now()));
  });
  const opening =
    config.target.kind !== 'supplied' ? openOwned(client, topology, config, giveUp.signal) : client.isReady ? Promise.resolve() : listeners.ready();
  opening.catch(() => undefined); // it may lose the race and reject later
  try {
    await Promise.race([opening, timeout]);
  } finally {
    clearTimeout(timer);
    giveUp.abort();
  }
}

async function openOwned(client: NodeRedisClient, topology: Topology, config: ResolvedRedisConfig, giveUp: AbortSignal): Promise<void> {
  if (topology !== 'cluster') {
    await client.connect();
    return;
  }
  // cluster.connect() fails at once when no root node answers, instead of
  // retrying: retry it here until start-up is given up (the sleep is
  // cancelled then, and no further attempt may reopen the destroyed cluster).
  for (let failures = 1; ; failures += 1) {
    try {
      await client.connect();
      return;
    } catch (error) {
      if (giveUp.aborted || permanentFailureHint(error) !== undefined) throw error;
      await sleep(reconnectDelay(failures, config.reconnect), { signal: giveUp });
    }
  }
}

export async function destroyQuietly(client: NodeRedisClient): Promise<void> {
  try {
    await client.destroy();
  } catch {
    // already closed
  }
}

/** Graceful close (pending replies may arrive) for at most `boundMs`, then destroy. */
export async function closeWithin(client: NodeRedisClient, boundMs: number): Promise<void> {
  if (!client.isOpen) return destroyQuietly(client);
  try {
    await failFast(() => client.close(), boundMs);
  } catch {
    await destroyQuietly(client);
  }
}
