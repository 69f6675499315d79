import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisConnection } from 'agent-session';
import type { SseStream } from '../harness/sse.js';
import { keySlot, rawClient, type TestClient } from '../harness/store.js';
import { startCluster, type ClusterSetup } from '../harness/topologies.js';
import { eventually } from '../harness/wait.js';
import { FRAMEWORKS } from './apps.js';
import type { Browser } from './browser.js';
import { logIn, ofType, openEvents, startEventsApp, type EventsApp } from './events-app.js';
import { shardChannelsPerMaster } from '../harness/pubsub.js';

/**
 * agentEvents() on a real 3-master Redis Cluster, through HTTP: the app's
 * store publishes with SPUBLISH on the node that holds the session, and the
 * process's sharded subscriber follows each stream's channel on that node.
 * Users log in until every master holds at least SESSIONS_PER_MASTER of the
 * conversations (ids are random; the slot is CRC16 of the id), so streams
 * on all three masters run at once. Each stream must carry its own session's
 * events and nothing else, in order, and no sharded subscription may outlive
 * its streams (PUBSUB SHARDCHANNELS on every master).
 */
const SESSIONS_PER_MASTER = 2;
/** Enough logins to reach SESSIONS_PER_MASTER everywhere all but never (it takes about 9 on average). */
const MAX_LOGINS = 200;
const TURNS = 3;

let cluster: ClusterSetup;
let redis: RedisConnection;
let masters: TestClient[];
/** The slot ranges each master serves (CLUSTER SLOTS), by index into `masters`. */
let slotRanges: Array<Array<[number, number]>>;
const open: EventsApp[] = [];
const streams: SseStream[] = [];

beforeAll(async () => {
  cluster = await startCluster({ size: 3 });
  redis = await connectRedis({ cluster: { rootNodes: [{ url: cluster.nodes[0]!.url }] }, logger: () => {} });
  masters = await Promise.all(cluster.nodes.map((node) => rawClient(node.url)));
  const slots = (await masters[0]!.sendCommand(['CLUSTER', 'SLOTS'])) as Array<[number, number, [string, number, ...unknown[]]]>;
  slotRanges = cluster.nodes.map((node) => slots.filter((range) => Number(range[2][1]) === node.port).map(([from, to]) => [Number(from), Number(to)]));
});
afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  await Promise.all(open.splice(0).map((app) => app.close()));
});
afterAll(async () => {
  await Promise.all((masters ?? []).map((master) => master.close()));
  await redis?.close();
  await cluster?.dispose();
});

/** Which master serves the session's keys and channel. */
function masterOf(sessionId: string): number {
  const slot = keySlot(sessionId);
  return slotRanges.findIndex((ranges) => ranges.some(([from, to]) => slot >= from && slot <= to));
}


interface Conversation {
  browser: Browser;
  agentSessionId: string;
  master: number;
  events: SseStream;
}

/** Logs users in until every master holds SESSIONS_PER_MASTER conversations, and opens a stream on each. */
async function conversationsOnEveryMaster(app: EventsApp): Promise<Conversation[]> {
  const conversations: Array<Omit<Conversation, 'events'>> = [];
  const onMaster = (index: number) => conversations.filter((conversation) => conversation.master === index).length;
  for (let n = 0; n < MAX_LOGINS && masters.some((_, index) => onMaster(index) < SESSIONS_PER_MASTER); n += 1) {
    const { browser, agentSessionId } = await logIn(app, `user-${n}`);
    conversations.push({ browser, agentSessionId, master: masterOf(agentSessionId) });
  }
  expect(masters.map((_, index) => onMaster(index) >= SESSIONS_PER_MASTER)).toEqual([true, true, true]);
  const opened = await Promise.all(
    conversations.map(async (conversation) => {
      const events = await openEvents(app, conversation.browser);
      streams.push(events);
      expect(events.status).toBe(200);
      return { ...conversation, events };
    }),
  );
  await Promise.all(opened.map(({ events }) => events.next(ofType('ready'), 'ready')));

  // Each stream's channel is subscribed on the master of its session's slot, and only there.
  const expected = masters.map((_, index) =>
    opened
      .filter((conversation) => conversation.master === index)
      .map((conversation) => `${app.prefix}{${conversation.agentSessionId}}:events`)
      .sort(),
  );
  expect(await shardChannelsPerMaster(masters, app.prefix)).toEqual(expected);
  return opened;
}

const withoutTime = (data: string) => {
  const { at, ...rest } = JSON.parse(data) as { at?: number };
  expect(typeof at).toBe('number');
  return rest;
};

describe.each(FRAMEWORKS)('%s: agentEvents() on a 3-master Redis Cluster', (framework) => {
  it("streams each session's own events, in order, for sessions on every master at once, and leaves no sharded subscription behind", async () => {
    const app = await startEventsApp(redis, framework);
    open.push(app);
    const conversations = await conversationsOnEveryMaster(app);

    // Every conversation changes at the same time, through HTTP: TURNS turns, then a tool call.
    await Promise.all(
      conversations.map(async ({ browser }) => {
        for (let turn = 0; turn < TURNS; turn += 1) expect((await browser.post('/turn')).status).toBe(200);
        expect((await browser.post('/tool')).status).toBe(204);
      }),
    );
    const expectedCount = 1 + TURNS + 2;
    await eventually('every stream to get its events', () => conversations.every(({ events }) => events.events.length >= expectedCount));

    for (const { agentSessionId, events } of conversations) {
      expect(events.events[0]!.event).toBe('ready');
      expect(JSON.parse(events.events[0]!.data)).toEqual({ sessionId: agentSessionId });
      expect(events.events.slice(1).map((event) => ({ event: event.event, data: withoutTime(event.data) }))).toEqual([
        ...Array.from({ length: TURNS }, (_, i) => ({ event: 'turn_appended', data: { sessionId: agentSessionId, type: 'turn_appended', seq: i + 1 } })),
        { event: 'tool_call_started', data: { sessionId: agentSessionId, type: 'tool_call_started', callId: 'call_1' } },
        { event: 'tool_call_completed', data: { sessionId: agentSessionId, type: 'tool_call_completed', callId: 'call_1' } },
      ]);
    }

    // The clients go away: every master is left with no sharded subscription of the app's.
    for (const { events } of conversations) events.close();
    await eventually('no shard channel left on any master', async () => (await shardChannelsPerMaster(masters, app.prefix)).flat().length === 0);
    expect(app.errors).toEqual([]);
  });

  it('ends each stream whose session is deleted with deleted, then end, on every master, and the others carry on', async () => {
    const app = await startEventsApp(redis, framework);
    open.push(app);
    const conversations = await conversationsOnEveryMaster(app);
    // One conversation per master stays; the others are deleted, all at once.
    const kept = new Set(masters.map((_, index) => conversations.find((conversation) => conversation.master === index)!));
    const deleted = conversations.filter((conversation) => !kept.has(conversation));
    expect(new Set(deleted.map((conversation) => conversation.master)).size).toBe(3);

    await Promise.all(deleted.map(async ({ browser }) => expect((await browser.post('/delete')).status).toBe(204)));
    // The server closes these streams, so what they got is all they will ever get.
    const closed = new Set<SseStream>();
    for (const { events } of deleted) void events.ended.then(() => closed.add(events));
    await eventually("the server to close the deleted sessions' streams", () => closed.size === deleted.length);
    for (const { agentSessionId, events } of deleted) {
      expect(events.events.map((event) => event.event)).toEqual(['ready', 'deleted', 'end']);
      expect(withoutTime(events.events[1]!.data)).toEqual({ sessionId: agentSessionId, type: 'deleted' });
      expect(JSON.parse(events.events[2]!.data)).toEqual({ sessionId: agentSessionId, reason: 'deleted' });
    }
    await eventually('only the kept conversations subscribed', async () => (await shardChannelsPerMaster(masters, app.prefix)).flat().length === kept.size);

    for (const { browser } of kept) expect((await browser.post('/turn')).status).toBe(200);
    for (const { agentSessionId, events } of kept) {
      const turn = await events.next(ofType('turn_appended'), 'turn_appended');
      expect(withoutTime(turn.data)).toEqual({ sessionId: agentSessionId, type: 'turn_appended', seq: 1 });
      expect(events.events.map((event) => event.event)).toEqual(['ready', 'turn_appended']);
      events.close();
    }
    await eventually('no shard channel left on any master', async () => (await shardChannelsPerMaster(masters, app.prefix)).flat().length === 0);
    expect(app.errors).toEqual([]);
  });
});
