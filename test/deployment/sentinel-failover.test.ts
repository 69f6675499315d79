import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisConnection } from 'agent-session';
import { acknowledged, recoveryAfter, runChats, startChatApp, verify, type ChatApp } from '../harness/chats.js';
import { startFailoverSetup, type FailoverSetup } from '../harness/topologies.js';
import { eventually } from '../harness/wait.js';

/**
 * docs/deployment.md's Sentinel set-up, the quick version of
 * `npm run topology:sentinel-failover`: 1 master, 1 replica, 3 sentinels
 * (quorum 2, down-after-milliseconds 2000), chats over HTTP through an
 * Express app, kill -9 of the master while they run.
 *
 * What "0 acknowledged turns lost" rests on here: replication is
 * asynchronous and the library sends no WAIT, so a turn is acknowledged once
 * the master has applied it. The master writes a change to the replica's
 * connection in the same event-loop turn as the reply, and on loopback the
 * kernel still delivers what was written after the process dies, so the
 * replica has every acknowledged turn. Over a network a partition or a lagging
 * replica can still lose the last acknowledged writes (the guide says so);
 * this test pins the failover path: the client follows the new master, the
 * scripts load there, no session is lost.
 */
let setup: FailoverSetup;
let redis: RedisConnection;
let app: ChatApp;

beforeAll(async () => {
  setup = await startFailoverSetup({ downAfterMs: 2_000 });
  redis = await connectRedis({ sentinel: { masterName: setup.masterName, nodes: setup.sentinelNodes }, logger: () => {} });
  app = await startChatApp(redis);
});
afterAll(async () => {
  await app?.close();
  await redis?.close();
  await setup?.dispose();
});

describe('Sentinel failover (1 master, 1 replica, 3 sentinels)', () => {
  it('kill -9 of the master while chats run: every chat is served again by the promoted replica, and no acknowledged turn is lost', async () => {
    const chats = 4;
    const run = runChats(app.url, { chats });
    try {
      await eventually('some turns acknowledged before the kill', () => run.calls.filter(acknowledged).length >= 40);
      await setup.master.kill();
      const killedAt = performance.now();
      // Generous: a failover whose first election fails is retried after 2 x failover-timeout (20 s).
      await eventually('every chat served again after the kill', () => recoveryAfter(killedAt, run.calls, chats).allServedMs !== undefined, 50_000);
    } finally {
      await run.stop();
    }
    expect(await setup.currentMaster()).toEqual({ host: '127.0.0.1', port: setup.replica.port });
    const result = await verify(app.url, run);
    expect(result.acknowledged).toBeGreaterThan(40);
    expect(result.lost).toBe(0);
  }, 60_000);
});
