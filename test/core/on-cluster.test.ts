import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisConnection } from 'agent-session';
import { SessionStore } from '../../src/core/agent-store.js';
import { startCluster, type ClusterSetup } from '../harness/topologies.js';
import { uniquePrefix } from '../harness/store.js';

/**
 * Every operation on a real 3-master Redis Cluster: the scripts touch
 * several keys of one session, which Cluster only allows when they share a
 * hash slot. Thirty sessions with random ids land on all three masters
 * (the chance that they miss one is about 1 in 60,000).
 */
let cluster: ClusterSetup;
let redis: RedisConnection;
let store: SessionStore;

beforeAll(async () => {
  cluster = await startCluster({ size: 3 });
  redis = await connectRedis({ cluster: { rootNodes: [{ url: cluster.nodes[0]!.url }] }, logger: () => {} });
  store = new SessionStore({ redis, keyPrefix: uniquePrefix() });
});
afterAll(async () => {
  await redis?.close();
  await cluster?.dispose();
});

describe('agent state on Redis Cluster', () => {
  it('runs every operation for sessions spread over all masters', async () => {
    const sessions = await Promise.all(Array.from({ length: 30 }, (_, i) => store.create({ userId: `user-${i}` })));
    for (const [i, session] of sessions.entries()) {
      const handle = store.session(session.id, { user: `user-${i}` });
      await handle.appendTurn({ role: 'user', content: `hello ${i}` });
      await handle.startToolCall({ id: 'call_1', name: 'lookup' });
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
      await handle.delete();
      await expect(handle.meta()).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    }
  });
});
