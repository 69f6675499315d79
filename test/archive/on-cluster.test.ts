import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisConnection } from 'agent-session';
import { createArchiver } from 'agent-session/archive';
import { SessionStore } from '../../src/core/agent-store.js';
import { sessionKeys } from '../../src/core/keys.js';
import { startCluster, type ClusterSetup } from '../harness/topologies.js';
import { uniquePrefix } from '../harness/store.js';
import { archiveForThisFile } from './support.js';

/**
 * The cold tier on a real 3-master Redis Cluster: the backlog and lease live
 * in each session's slot, the archiver's index in its own, and no script
 * spans both, so writes, the archiver and restores all run unchanged.
 */
const { archive } = archiveForThisFile();
let cluster: ClusterSetup;
let redis: RedisConnection;

beforeAll(async () => {
  cluster = await startCluster({ size: 3 });
  redis = await connectRedis({ cluster: { rootNodes: [{ url: cluster.nodes[0]!.url }] }, logger: () => {} });
});
afterAll(async () => {
  await redis?.close();
  await cluster?.dispose();
});

describe('the cold tier on Redis Cluster', () => {
  it('archives sessions in many slots (random ids), and restores them after their keys are gone', async () => {
    const keyPrefix = uniquePrefix();
    const store = new SessionStore({ redis, keyPrefix, maxTurns: 5, archive: { tier: archive } });
    const sessions = await Promise.all(Array.from({ length: 24 }, (_, i) => store.create({ userId: `user-${i}` })));
    await Promise.all(
      sessions.map(async (session, i) => {
        for (let turn = 1; turn <= 12; turn++) await session.appendTurn({ role: 'user', content: `s${i} t${turn}` });
      }),
    );
    await createArchiver({ redis, archive, keyPrefix }).drainAll();
    for (const session of sessions) {
      expect((await archive.history(session.id, { limit: 500 })).map((turn) => turn.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    }

    const [first, second] = sessions;
    for (const session of [first!, second!]) {
      const keys = Object.values(sessionKeys(keyPrefix, session.id));
      // One slot per session, so one DEL can take all of its keys.
      await redis.client.del(keys);
    }
    const { session, restored } = await store.resume(first!.id, { user: 'user-0' });
    expect(restored).toBe(true);
    expect((await session.turns()).map((turn) => turn.seq)).toEqual([8, 9, 10, 11, 12]);
    await expect(session.appendTurn({ role: 'user', content: 'after restore' })).resolves.toMatchObject({ seq: 13 });
    await expect(store.resume(second!.id, { user: 'user-0' })).rejects.toMatchObject({ code: 'SESSION_USER_MISMATCH' });
  });
});
