import type { RedisClusterType } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from 'agent-session';
import { isUnavailability } from '../../src/redis/fail-fast.js';
import { freePort } from '../harness/redis-server.js';
import { startCluster, type ClusterSetup } from '../harness/topologies.js';
import { eventually, recordEvents, rejectionOf } from '../harness/wait.js';

/** Redis Cluster: 3 masters, credentials applied to every discovered node, health over all masters, a node outage. */

const PASSWORD = 'cluster-pw-5e0a';
let cluster: ClusterSetup;

beforeAll(async () => {
  cluster = await startCluster({ size: 3, password: PASSWORD });
});

afterAll(async () => {
  await cluster?.dispose();
});

describe('Redis Cluster', () => {
  it('discovers every master from one root node and authenticates to all of them', async () => {
    const log = recordEvents();
    const connection = await connectRedis({ cluster: { rootNodes: [{ url: cluster.nodes[0]!.url }] }, password: PASSWORD, logger: log.logger });
    try {
      const client = connection.client as RedisClusterType;
      expect(client.masters.map((master) => master.port).sort()).toEqual(cluster.nodes.map((node) => node.port).sort());
      // Keys spread over all three masters, so every node connection is used.
      for (let i = 0; i < 30; i++) await client.set(`cluster:key:${i}`, String(i));
      for (let i = 0; i < 30; i++) expect(await client.get(`cluster:key:${i}`)).toBe(String(i));
      const health = await connection.health();
      expect(health.state).toBe('ready');
      expect(health.latencyMs).toBeGreaterThanOrEqual(0);
      expect(log.text()).not.toContain(PASSWORD);
    } finally {
      await connection.close();
    }
  });

  it('fails commands for a stopped master fast, serves the others, and recovers', async () => {
    const connection = await connectRedis({
      cluster: { rootNodes: cluster.rootNodes },
      password: PASSWORD,
      failFastMs: 500,
      reconnect: { maxDelayMs: 200 },
      logger: () => {},
    });
    const client = connection.client as RedisClusterType;
    const down = cluster.nodes[1]!;
    try {
      const slotOwner = async (key: string) => (await client.getNodeClientForKey(key)) === (await client.nodeClient(client.masters.find((master) => master.port === down.port)!));
      const keys = Array.from({ length: 30 }, (_, i) => `cluster:outage:${i}`);
      const onDown: string[] = [];
      const onUp: string[] = [];
      for (const key of keys) ((await slotOwner(key)) ? onDown : onUp).push(key);
      expect(onDown.length).toBeGreaterThan(0);

      await down.stop();
      const downClient = await client.nodeClient(client.masters.find((master) => master.port === down.port)!);
      await eventually('the node client notices the outage', () => !downClient.isReady);

      const failed = await rejectionOf(client.get(onDown[0]!));
      expect(isUnavailability(failed.error)).toBe(true);
      expect(failed.elapsedMs).toBeLessThan(500 + 1_500);
      expect(await client.get(onUp[0]!)).toBeNull();
      expect((await connection.health()).state).toBe('reconnecting');

      await down.restart();
      await eventually('health is ready again', async () => (await connection.health()).state === 'ready');
      // A restarted node answers CLUSTERDOWN (a transient reply) until it has rejoined the cluster.
      await eventually('the restarted master serves its slots', () =>
        client.set(onDown[0]!, 'back').then(
          () => true,
          (error: unknown) => {
            if (!isUnavailability(error)) throw error;
            return false;
          },
        ),
      );
      expect(await client.get(onDown[0]!)).toBe('back');
    } finally {
      await connection.close();
    }
  });

  it('retries discovery until connectTimeoutMs when no root node answers', async () => {
    const port = await freePort();
    const log = recordEvents();
    const error = await connectRedis({ cluster: { rootNodes: [{ host: '127.0.0.1', port }] }, connectTimeoutMs: 600, logger: log.logger, logIntervalMs: 0 }).catch(
      (failure: unknown) => failure,
    );
    expect((error as Error).message).toContain(`Could not connect to Redis Cluster via root nodes 127.0.0.1:${port} within 600 ms`);
    expect(log.events.filter((event) => event.type === 'error').length).toBeGreaterThan(1);
  });
});
