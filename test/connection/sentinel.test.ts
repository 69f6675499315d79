import type { RedisSentinelType } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from 'agent-session';
import { startSentinelSetup, type SentinelSetup } from '../harness/topologies.js';
import { recordEvents } from '../harness/wait.js';

/** A Sentinel-managed master: master name + sentinel nodes, passwords for both, database, health via the sentinel client. */

const MASTER_PASSWORD = 'master-pw-3b1e';
const SENTINEL_PASSWORD = 'sentinel-pw-c84d';
let setup: SentinelSetup;

beforeAll(async () => {
  setup = await startSentinelSetup({ masterPassword: MASTER_PASSWORD, sentinelPassword: SENTINEL_PASSWORD });
});

afterAll(async () => {
  await setup?.dispose();
});

describe('Sentinel', () => {
  it('finds the master through the sentinel and uses it', async () => {
    const log = recordEvents();
    const connection = await connectRedis({
      sentinel: { masterName: setup.masterName, nodes: [setup.sentinelNode], password: SENTINEL_PASSWORD },
      password: MASTER_PASSWORD,
      database: 2,
      logger: log.logger,
    });
    try {
      const sentinel = connection.client as RedisSentinelType;
      expect(sentinel.getMasterNode()).toEqual({ host: '127.0.0.1', port: setup.master.port });
      await sentinel.set('sentinel:key', 'via sentinel');
      expect(await sentinel.get('sentinel:key')).toBe('via sentinel');
      expect(await sentinel.sendCommand(false, ['CLIENT', 'INFO'])).toMatch(/ db=2 /);
      const health = await connection.health();
      expect(health.state).toBe('ready');
      expect(health.latencyMs).toBeGreaterThanOrEqual(0);
      expect(log.events.some((event) => event.type === 'ready')).toBe(true);
      expect(log.text()).not.toContain(MASTER_PASSWORD);
      expect(log.text()).not.toContain(SENTINEL_PASSWORD);
    } finally {
      await connection.close();
    }
    expect(await connection.health()).toEqual({ state: 'closed' });
  });

  it('reports a master outage as reconnecting, within the fail-fast bound', async () => {
    const connection = await connectRedis({
      sentinel: { masterName: setup.masterName, nodes: [setup.sentinelNode], password: SENTINEL_PASSWORD },
      password: MASTER_PASSWORD,
      failFastMs: 500,
      logger: () => {},
    });
    try {
      await setup.master.stop();
      const started = performance.now();
      expect((await connection.health()).state).toBe('reconnecting');
      expect(performance.now() - started).toBeLessThan(500 + 1_500);
    } finally {
      await setup.master.restart();
      await connection.close();
    }
  });

  it('says which sentinels it tried when the master name is unknown', async () => {
    const error = await connectRedis({
      sentinel: { masterName: 'no-such-master', nodes: [setup.sentinelNode], password: SENTINEL_PASSWORD },
      connectTimeoutMs: 1_000,
      logger: () => {},
    }).catch((failure: unknown) => failure);
    expect((error as Error).message).toContain(`Could not connect to Sentinel master "no-such-master" via 127.0.0.1:${setup.sentinelNode.port} within 1000 ms`);
  });
});
