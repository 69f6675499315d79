import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisConnection, type SessionEvent } from 'agent-session';
import { SessionStore } from '../../src/core/agent-store.js';
import { startSentinelSetup, type SentinelSetup } from '../harness/topologies.js';
import { rawClient, uniquePrefix, type TestClient } from '../harness/store.js';
import { eventually } from '../harness/wait.js';

/** Session events through a Sentinel-managed master: PUBLISH from the scripts, a subscriber connection to the master. */
let setup: SentinelSetup;
let redis: RedisConnection;
let store: SessionStore;
let master: TestClient;

beforeAll(async () => {
  setup = await startSentinelSetup();
  redis = await connectRedis({ sentinel: { masterName: setup.masterName, nodes: [setup.sentinelNode] }, logger: () => {} });
  store = new SessionStore({ redis, keyPrefix: uniquePrefix() });
  master = await rawClient(setup.master.url);
});
afterAll(async () => {
  await master?.close();
  await redis?.close();
  await setup?.dispose();
});

describe('session events through Sentinel', () => {
  it('are delivered, with one subscription per channel on the master, and unsubscribed at the end', async () => {
    const session = await store.create({ userId: 'u' });
    const channel = `${store.keyPrefix}{${session.id}}:events`;
    const seen: SessionEvent[] = [];
    const first = await store.subscribe(session.id, (event) => seen.push(event));
    const second = await store.subscribe(session.id, () => undefined);
    expect(await master.sendCommand(['PUBSUB', 'NUMSUB', channel])).toEqual([channel, 1]);
    await session.appendTurn({ role: 'user', content: 'hi' });
    await session.update({ model: 'm' });
    await eventually('two events', () => seen.length === 2);
    expect(seen.map((event) => event.type)).toEqual(['turn_appended', 'meta_updated']);
    await first();
    await second();
    expect(await master.sendCommand(['PUBSUB', 'NUMSUB', channel])).toEqual([channel, 0]);
  });

  it('a lost subscriber connection is reported as a gap, and events flow again', async () => {
    const session = await store.create();
    const channel = `${store.keyPrefix}{${session.id}}:events`;
    const seen: string[] = [];
    let gaps = 0;
    const unsubscribe = await store.subscribe(session.id, (event) => seen.push(event.type), { onGap: () => (gaps += 1) });
    await master.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    await eventually('a gap', () => gaps > 0);
    await eventually('subscribed again', async () => ((await master.sendCommand(['PUBSUB', 'NUMSUB', channel])) as [string, number])[1] === 1);
    await session.appendTurn({ role: 'user', content: 'after' });
    await eventually('the event after the reconnect', () => seen.includes('turn_appended'));
    await unsubscribe();
  });
});
