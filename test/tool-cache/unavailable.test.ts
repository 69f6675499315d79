import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectRedis, StoreUnavailableError, type RedisConnection } from 'agent-session';
import { createToolCache, type ToolCacheEvent } from 'agent-session/tool-cache';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { eventually } from '../harness/wait.js';

/**
 * Redis down: the cache steps aside. The tool runs uncached, the caller gets
 * its result, a logger event says why, nothing crashes; once Redis is back
 * the cache serves again.
 */
let server: RedisServer;
let redis: RedisConnection;

beforeAll(async () => {
  server = await startRedisServer();
  redis = await connectRedis({ url: server.url, failFastMs: 500, logger: () => {}, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
});
afterAll(async () => {
  await redis?.close();
  await server?.dispose();
});

describe('with Redis down', () => {
  it('the tool runs without the cache and the caller gets its result; the cache serves again once Redis is back', async () => {
    const events: ToolCacheEvent[] = [];
    const cache = createToolCache({ redis, logger: (event) => events.push(event) });
    cache.register({ name: 'search', scope: 'global', ttlMs: 60_000, audit: false });
    let runs = 0;
    const tool = async () => ({ run: ++runs });
    await expect(cache.call('search', { q: 1 }, tool)).resolves.toMatchObject({ source: 'run' });
    await expect(cache.call('search', { q: 1 }, tool)).resolves.toMatchObject({ source: 'cache', result: { run: 1 } });

    await server.stop();
    for (let i = 0; i < 3; i++) {
      await expect(cache.call('search', { q: 1 }, tool)).resolves.toMatchObject({ source: 'uncached', cached: false, result: { run: 2 + i } });
    }
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events[0]).toMatchObject({ type: 'unavailable', tool: 'search', step: 'lookup' });
    // The figures live in Redis: reading them fails, typed.
    await expect(cache.stats()).rejects.toBeInstanceOf(StoreUnavailableError);

    await server.restart();
    await eventually('Redis is back', async () => (await redis.health()).state === 'ready');
    // The restarted server kept nothing: a miss, then a hit.
    await expect(cache.call('search', { q: 1 }, tool)).resolves.toMatchObject({ source: 'run' });
    await expect(cache.call('search', { q: 1 }, tool)).resolves.toMatchObject({ source: 'cache' });
  });

  it('a Redis that hangs (SIGSTOP): the call gives up on it after failFastMs and runs the tool', async () => {
    const events: ToolCacheEvent[] = [];
    const cache = createToolCache({ redis, logger: (event) => events.push(event) });
    cache.register({ name: 'frozen', scope: 'global', ttlMs: 60_000, audit: false });
    await eventually('Redis is ready', async () => (await redis.health()).state === 'ready');
    server.freeze();
    try {
      await expect(cache.call('frozen', { q: 1 }, async () => 'answer')).resolves.toMatchObject({ source: 'uncached', result: 'answer' });
      expect(events[0]).toMatchObject({ type: 'unavailable', tool: 'frozen', step: 'lookup' });
    } finally {
      server.thaw();
    }
  });

  it('the default logger writes one line for an outage, not one per call', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const cache = createToolCache({ redis });
      cache.register({ name: 'quiet', scope: 'global', ttlMs: 60_000, audit: false });
      await eventually('Redis is ready', async () => (await redis.health()).state === 'ready');
      await server.stop();
      for (let i = 0; i < 5; i++) await expect(cache.call('quiet', { i }, async () => i)).resolves.toMatchObject({ source: 'uncached', result: i });
      const lines = warn.mock.calls.map((args) => String(args[0])).filter((line) => line.includes('tool-cache:quiet'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/lookup without the cache/);
    } finally {
      warn.mockRestore();
      await server.restart();
      await eventually('Redis is back', async () => (await redis.health()).state === 'ready');
    }
  });
});
