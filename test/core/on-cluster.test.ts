import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisConnection } from 'agent-session';
import { SessionStore } from '../../src/core/agent-store.js';
import { startCluster, type ClusterSetup } from '../harness/topologies.js';
import { keySlot, keysUnder, rawClient, uniquePrefix, type TestClient } from '../harness/store.js';

/**
 * Every operation on a real 3-master Redis Cluster: the scripts touch
 * several keys of one session, which Cluster only allows when they share a
 * hash slot. Forty-eight sessions with random ids land on all three masters
 * (the chance that they miss one is 3 * (2/3)^48, about 1 in 90 million).
 */
const SESSIONS = 48;
const keyPrefix = uniquePrefix();
let cluster: ClusterSetup;
let redis: RedisConnection;
let store: SessionStore;
/** One plain client per master: its SCAN sees only the keys of that master's slots. */
let masters: TestClient[];

beforeAll(async () => {
  cluster = await startCluster({ size: 3 });
  redis = await connectRedis({ cluster: { rootNodes: [{ url: cluster.nodes[0]!.url }] }, logger: () => {} });
  store = new SessionStore({ redis, keyPrefix });
  masters = await Promise.all(cluster.nodes.map((node) => rawClient(node.url)));
});
afterAll(async () => {
  await Promise.all((masters ?? []).map((master) => master.close()));
  await redis?.close();
  await cluster?.dispose();
});

/** For each master, the keys it holds under the test's prefix. */
function keysPerMaster(): Promise<string[][]> {
  return Promise.all(masters.map((master) => keysUnder(master, keyPrefix)));
}

describe('agent state on Redis Cluster', () => {
  it('spreads sessions over all masters and runs every operation on each', async () => {
    const users = Array.from({ length: SESSIONS }, (_, i) => `user-${i}`);
    const sessions = await Promise.all(users.map((userId) => store.create({ userId })));
    for (const [i, session] of sessions.entries()) {
      const handle = store.session(session.id, { user: users[i]! });
      // With idempotency keys, so the records and the tool-call order (keys of their own) are on Cluster too.
      const first = await handle.appendTurn({ role: 'user', content: `hello ${i}` }, { idempotencyKey: `msg-${i}` });
      expect(await handle.appendTurn({ role: 'user', content: `hello ${i}` }, { idempotencyKey: `msg-${i}` })).toEqual(first);
      await handle.startToolCall({ id: 'call_1', name: 'lookup' }, { idempotencyKey: `call-${i}` });
      await handle.completeToolCall('call_1', { ok: i });
      await handle.update({ currentTask: 'check', fields: { n: String(i) } });
      await store.session(session.id, { trusted: 'observer' }).writeNotes({ summary: i }, { coversThroughSeq: 1 });
      const observation = await handle.requestObservation();
      expect(observation.outcome).toBe('queued');
      const snapshot = await handle.snapshot();
      expect(snapshot.meta).toMatchObject({ turnCount: 1, currentTask: 'check', fields: { n: String(i) } });
      expect(snapshot.toolCalls[0]).toMatchObject({ status: 'completed', result: { ok: i } });
      expect(snapshot.notes).toMatchObject({ ready: true, notes: { summary: i } });
      expect(await handle.touch()).toBe(true);
    }

    // Each session lives whole on one master, and every master holds some.
    const perMaster = await keysPerMaster();
    const sessionsPerMaster = masters.map(() => 0);
    for (const session of sessions) {
      const holders = perMaster.flatMap((keys, master) => (keys.some((key) => key.includes(session.id)) ? [master] : []));
      expect(holders).toHaveLength(1);
      const master = holders[0]!;
      const keys = perMaster[master]!.filter((key) => key.includes(session.id));
      expect(keys.length).toBeGreaterThanOrEqual(6);
      expect(keys).toEqual(expect.arrayContaining([expect.stringMatching(/:idem$/), expect.stringMatching(/:tool-order$/)]));
      // The slot arithmetic of the standalone key-schema test is Cluster's own.
      for (const key of keys) expect(Number(await masters[master]!.sendCommand(['CLUSTER', 'KEYSLOT', key]))).toBe(keySlot(key));
      sessionsPerMaster[master]! += 1;
    }
    expect(sessionsPerMaster.filter((count) => count > 0)).toHaveLength(cluster.nodes.length);

    for (const [i, session] of sessions.entries()) {
      const handle = store.session(session.id, { user: users[i]! });
      await handle.delete();
      await expect(handle.meta()).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    }
    const left = (await keysPerMaster()).flat();
    expect(sessions.filter((session) => left.some((key) => key.includes(session.id)))).toEqual([]);
  });
});
