import { failFast } from './fail-fast.js';
import type { ResolvedRedisConfig } from './options.js';
import type { NodeRedisClient, RedisConnectionEvent, Topology } from './types.js';

/**
 * An allkeys-* eviction policy lets Redis evict live sessions when memory is
 * full. Checked once at start-up; skipped quietly when CONFIG is not allowed
 * (an ACL user without +config, a managed Redis that renames it).
 */
export async function warnAboutEviction(
  client: NodeRedisClient,
  topology: Topology,
  config: ResolvedRedisConfig,
  report: (event: RedisConnectionEvent) => void,
): Promise<void> {
  let policies: string[];
  try {
    policies = await failFast(() => evictionPolicies(client), config.failFastMs);
  } catch {
    return;
  }
  const risky = policies.find((policy) => policy.startsWith('allkeys-'));
  if (risky === undefined) return;
  const where = topology === 'cluster' ? 'on at least one cluster master' : `on ${config.description}`;
  report({
    type: 'warning',
    message:
      `maxmemory-policy is "${risky}" ${where}: when memory runs out Redis may evict any key, including live agent sessions. ` +
      `Use "volatile-ttl" or "volatile-lru" (CONFIG SET maxmemory-policy volatile-ttl, and in redis.conf), or "noeviction" to never lose a session.`,
  });
}

async function evictionPolicies(client: NodeRedisClient): Promise<string[]> {
  const read = async (node: { configGet(parameter: string): Promise<unknown> }) => {
    const reply = await node.configGet('maxmemory-policy');
    const value = reply instanceof Map ? reply.get('maxmemory-policy') : (reply as Record<string, unknown>)['maxmemory-policy'];
    return String(value ?? '');
  };
  if ('nodeClient' in client) {
    return Promise.all(client.masters.map(async (master) => read(await client.nodeClient(master))));
  }
  return [await read(client)];
}
