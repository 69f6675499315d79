import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisConnection, type SessionEvent } from 'agent-session';
import { SessionStore } from '../../src/core/agent-store.js';
import { startCluster, type ClusterSetup } from '../harness/topologies.js';
import { keySlot, rawClient, uniquePrefix, type TestClient } from '../harness/store.js';
import { eventually } from '../harness/wait.js';
import { shardChannelsPerMaster } from '../harness/pubsub.js';

/**
 * Session events on a real 3-master Redis Cluster: the scripts publish with
 * SPUBLISH on a channel in the session's slot (the node that runs the
 * script), and `subscribe` uses sharded subscriptions, so events arrive for
 * sessions on every master. Twenty-four random ids miss a master with a
 * chance of about 3 * (2/3)^24, 1 in 20,000; the test checks it did not.
 */
const SESSIONS = 24;
const keyPrefix = uniquePrefix();
let cluster: ClusterSetup;
let redis: RedisConnection;
let store: SessionStore;
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


describe('session events on Redis Cluster', () => {
  it('are published with SPUBLISH and received, through sharded subscriptions, for sessions on every master', async () => {
    const sessions = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => store.create({ userId: `user-${i}` })));
    const seen = new Map<string, SessionEvent[]>();
    const unsubscribes = await Promise.all(
      sessions.map((session) => store.subscribe(session.id, (event) => seen.set(session.id, [...(seen.get(session.id) ?? []), event]))),
    );
    // Each channel is subscribed on the master of its slot, and the channels are spread over all three.
    const perMaster = await shardChannelsPerMaster(masters, keyPrefix);
    expect(perMaster.flat().length).toBe(SESSIONS);
    expect(perMaster.every((channels) => channels.length > 0)).toBe(true);
    for (const session of sessions) {
      const channel = `${keyPrefix}{${session.id}}:events`;
      expect(keySlot(channel)).toBe(keySlot(session.keys.meta));
    }

    for (const [i, session] of sessions.entries()) {
      const handle = store.session(session.id, { user: `user-${i}` });
      await handle.appendTurn({ role: 'user', content: `hello ${i}` });
      await handle.startToolCall({ id: 'c1', name: 'lookup' });
      await handle.completeToolCall('c1', { ok: i });
      await store.session(session.id, { trusted: 'observer' }).writeNotes({ summary: i }, { coversThroughSeq: 1 });
    }
    await eventually('four events for every session', () => sessions.every((session) => seen.get(session.id)?.length === 4));
    for (const session of sessions) {
      expect(seen.get(session.id)?.map(({ at, ...rest }) => rest)).toEqual([
        { sessionId: session.id, type: 'turn_appended', seq: 1 },
        { sessionId: session.id, type: 'tool_call_started', callId: 'c1' },
        { sessionId: session.id, type: 'tool_call_completed', callId: 'c1' },
        { sessionId: session.id, type: 'notes_written', seq: 1 },
      ]);
    }

    await Promise.all(unsubscribes.map((unsubscribe) => unsubscribe()));
    expect((await shardChannelsPerMaster(masters, keyPrefix)).flat()).toEqual([]);
  });

  it('events() works on Cluster too, and ends with its signal', async () => {
    const session = await store.create();
    const controller = new AbortController();
    const types: string[] = [];
    const loop = (async () => {
      for await (const event of store.events(session.id, { signal: controller.signal })) {
        types.push(event.type);
        if (types.length === 2) controller.abort();
      }
    })();
    await eventually('subscribed', async () => (await shardChannelsPerMaster(masters, keyPrefix)).flat().length === 1);
    await session.update({ model: 'm' });
    await session.delete();
    await loop;
    expect(types).toEqual(['meta_updated', 'deleted']);
    await eventually('unsubscribed', async () => (await shardChannelsPerMaster(masters, keyPrefix)).flat().length === 0);
  });

  it('a lost sharded subscriber connection is reported as a gap, and events flow again', async () => {
    const session = await store.create();
    const channel = `${keyPrefix}{${session.id}}:events`;
    const seen: string[] = [];
    let gaps = 0;
    const unsubscribe = await store.subscribe(session.id, (event) => seen.push(event.type), { onGap: () => (gaps += 1) });
    const owner = masters[(await shardChannelsPerMaster(masters, keyPrefix)).findIndex((channels) => channels.includes(channel))]!;
    await owner.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    await eventually('a gap', () => gaps > 0);
    await eventually('subscribed again', async () => ((await owner.sendCommand(['PUBSUB', 'SHARDNUMSUB', channel])) as [string, number])[1] === 1);
    await session.appendTurn({ role: 'user', content: 'after' });
    await eventually('the event after the reconnect', () => seen.includes('turn_appended'));
    await unsubscribe();
  });
});
