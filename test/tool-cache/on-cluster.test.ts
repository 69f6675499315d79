import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisConnection } from 'agent-session';
import { createToolCache, lexicalEmbedder, type ToolCache } from 'agent-session/tool-cache';
import { startCluster, type ClusterSetup } from '../harness/topologies.js';
import { keySlot, keysUnder, rawClient, uniquePrefix, type TestClient } from '../harness/store.js';

/**
 * The tool cache on a real 3-master Redis Cluster: every script's keys share
 * the tool's hash tag, so each runs on one node; different tools land on
 * different masters.
 */
const keyPrefix = uniquePrefix();
let cluster: ClusterSetup;
let redis: RedisConnection;
let cache: ToolCache;
let masters: TestClient[];
const TOOLS = Array.from({ length: 24 }, (_, i) => `tool_${i}`);

beforeAll(async () => {
  cluster = await startCluster({ size: 3 });
  redis = await connectRedis({ cluster: { rootNodes: [{ url: cluster.nodes[0]!.url }] }, logger: () => {} });
  cache = createToolCache({ redis, keyPrefix, logger: () => {} });
  for (const name of TOOLS) {
    cache.register({ name, scope: 'user', ttlMs: 60_000, audit: { rate: 1 }, similarity: { argument: 'q', embed: lexicalEmbedder(), threshold: 0.8 } });
  }
  masters = await Promise.all(cluster.nodes.map((node) => rawClient(node.url)));
});
afterAll(async () => {
  await Promise.all((masters ?? []).map((master) => master.close()));
  await redis?.close();
  await cluster?.dispose();
});

describe('the tool cache on Redis Cluster', () => {
  it('misses, exact and similarity hits, audits, single flight and stats work for tools on every master', async () => {
    let runs = 0;
    const tool = async (args: unknown) => {
      runs += 1;
      return { answer: (args as { q: string }).q.length };
    };
    for (const name of TOOLS) {
      const calls = await Promise.all(Array.from({ length: 5 }, () => cache.call(name, { q: 'opening hours of the museum' }, tool, { userId: 'ada' })));
      expect(calls.filter(({ source }) => source === 'run')).toHaveLength(1);
      await expect(cache.call(name, { q: 'opening hours of the museum' }, tool, { userId: 'ada' })).resolves.toMatchObject({ source: 'cache' });
      await expect(cache.call(name, { q: 'museum opening hours?' }, tool, { userId: 'ada' })).resolves.toMatchObject({ source: 'similar' });
      await expect(cache.call(name, { q: 'opening hours of the museum' }, tool, { userId: 'bob' })).resolves.toMatchObject({ source: 'run' });
    }
    await cache.idle();
    const stats = await cache.stats();
    for (const name of TOOLS) expect(stats.tools[name]).toMatchObject({ misses: 2, hits: 6, similarityHits: 1, audits: expect.any(Number) });
    expect(Object.values(stats.tools).reduce((sum, tool) => sum + tool.audits + tool.auditsSkipped, 0)).toBe(6 * TOOLS.length);

    // Each tool's keys sit on one master, in one slot; the tools are spread over all three masters.
    const perMaster = await Promise.all(masters.map((master) => keysUnder(master, keyPrefix)));
    const mastersOfTool = new Map<string, Set<number>>();
    perMaster.forEach((keys, index) => {
      for (const key of keys) {
        const tool = /tool-cache:\{([^}]+)\}/.exec(key)?.[1] ?? '';
        expect(keySlot(key)).toBe(keySlot(`${keyPrefix}tool-cache:{${tool}}:entries`));
        mastersOfTool.set(tool, (mastersOfTool.get(tool) ?? new Set()).add(index));
      }
    });
    expect([...mastersOfTool.values()].every((set) => set.size === 1)).toBe(true);
    expect(new Set([...mastersOfTool.values()].flatMap((set) => [...set])).size).toBe(3);
  });
});
