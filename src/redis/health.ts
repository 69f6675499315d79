import { performance } from 'node:perf_hooks';
import { failFast } from './fail-fast.js';
import type { NodeRedisClient, RedisHealth } from './types.js';

/**
 * The connection's state and PING latency. Settles within `failFastMs`
 * even when Redis hangs; `closed()` says whether the connection was closed
 * by its owner.
 */
export async function probeHealth(client: NodeRedisClient, failFastMs: number, closed: () => boolean): Promise<RedisHealth> {
  if (closed() || !client.isOpen) return { state: 'closed' };
  if (!client.isReady) return { state: 'reconnecting' };
  const started = performance.now();
  try {
    await failFast(() => ping(client), failFastMs);
    return { state: 'ready', latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch {
    return { state: closed() ? 'closed' : 'reconnecting' };
  }
}

async function ping(client: NodeRedisClient): Promise<void> {
  if ('nodeClient' in client) {
    await Promise.all(client.masters.map(async (master) => (await client.nodeClient(master)).ping()));
    return;
  }
  await client.ping();
}
