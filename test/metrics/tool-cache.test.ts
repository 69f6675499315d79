import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, connectRedis, type RedisConnection } from 'agent-session';
import { agentMetrics } from 'agent-session/metrics';
import { createToolCache, type ToolCache } from 'agent-session/tool-cache';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniquePrefix } from '../harness/store.js';
import { labelValues, scrape, value } from './scrape.js';

/**
 * The tool cache's figures through agentMetrics({ toolCache }): the same
 * figures stats() returns, per tool, moving as calls hit and miss; labels
 * are tool names only (never arguments, users or sessions).
 */

let server: RedisServer;
let redis: RedisConnection;

beforeAll(async () => {
  server = await startRedisServer();
  redis = await connectRedis({ url: server.url, logger: () => {} });
});
afterAll(async () => {
  await redis?.close();
  await server?.dispose();
});

function cacheWithTools(): ToolCache {
  const cache = createToolCache({ redis, keyPrefix: uniquePrefix(), logger: () => {} });
  cache.register({ name: 'lookup', scope: 'global', ttlMs: 60_000, audit: { rate: 1, replaceBelow: 0 } });
  cache.register({ name: 'my_orders', scope: 'user', ttlMs: 60_000, audit: false });
  return cache;
}

describe('tool cache metrics', () => {
  it('hits, misses, audits and time saved per tool, as stats() reports them', async () => {
    const cache = cacheWithTools();
    const registry = new Registry();
    const metrics = agentMetrics({ redis, register: registry, observerKinds: [], toolCache: cache, sampleEveryMs: 0 });
    try {
      const before = await scrape(registry);
      expect(value(before, 'agent_session_tool_cache_hits_total{tool="lookup"}')).toBe(0);

      const lookup = async (q: string) => ({ answer: q.toUpperCase() });
      await cache.call('lookup', { q: 'a' }, (args) => lookup((args as { q: string }).q));
      await cache.call('lookup', { q: 'a' }, (args) => lookup((args as { q: string }).q));
      await cache.call('lookup', { q: 'a' }, (args) => lookup((args as { q: string }).q));
      await cache.call('my_orders', { page: 1 }, () => ['order-secret-1'], { userId: 'user-secret-7' });
      await cache.idle();

      const after = await scrape(registry);
      const stats = (await cache.stats()).tools;
      expect(value(after, 'agent_session_tool_cache_misses_total{tool="lookup"}')).toBe(1);
      expect(value(after, 'agent_session_tool_cache_hits_total{tool="lookup"}')).toBe(2);
      expect(value(after, 'agent_session_tool_cache_audits_total{tool="lookup"}')).toBe(stats.lookup!.audits);
      expect(stats.lookup!.audits).toBe(2);
      expect(value(after, 'agent_session_tool_cache_audit_overlap_total{tool="lookup",le="1"}')).toBe(2);
      expect(value(after, 'agent_session_tool_cache_audit_overlap_sum{tool="lookup"}')).toBeCloseTo(stats.lookup!.auditOverlap.sum, 6);
      expect(value(after, 'agent_session_tool_cache_time_saved_seconds_total{tool="lookup"}')).toBeCloseTo(stats.lookup!.timeSavedMs / 1000, 6);
      expect(value(after, 'agent_session_tool_cache_misses_total{tool="my_orders"}')).toBe(1);

      const labels = labelValues(after).join(' ');
      expect(labels).not.toContain('user-secret-7');
      expect(labels).not.toContain('order-secret');
    } finally {
      metrics.close();
    }
  });

  it('a cache Redis cannot answer leaves its series out of the scrape, and the scrape still works', async () => {
    const cache = { stats: () => Promise.reject(new Error('Redis is down')) };
    const registry = new Registry();
    const metrics = agentMetrics({ redis, register: registry, observerKinds: [], toolCache: cache, sampleEveryMs: 0 });
    try {
      const samples = await scrape(registry);
      expect([...samples.keys()].some((series) => series.startsWith('agent_session_tool_cache_hits_total{'))).toBe(false);
      expect(samples.has('agent_session_redis_connection_state{state="ready"}')).toBe(true);
    } finally {
      metrics.close();
    }
  });

  it('refuses something that is not a tool cache', () => {
    expect(() => agentMetrics({ redis, register: new Registry(), toolCache: {} as never })).toThrow(ConfigError);
  });
});
