import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, RedisPermissionError, StoreUnavailableError, type SessionEvent } from 'agent-session';
import { ACL_LINES } from '../acl/lines.js';
import { MAX_BUFFERED_EVENTS } from '../../src/core/session-events.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { clientForThisFile, rawClient, testStore, type TestClient } from '../harness/store.js';
import { eventually } from '../harness/wait.js';
import { channelsUnder, pubsubConnections, subscriberCount } from '../harness/pubsub.js';

/**
 * The subscription API: one shared subscriber connection, reference-counted
 * per channel, gaps after a reconnect, the async-iterator form and its
 * AbortSignal.
 */

const client = clientForThisFile();




/** A server of this file's own, so that its CLIENT LIST shows only the connections made here. */
let privateServer: RedisServer;
let admin: TestClient;
beforeAll(async () => {
  privateServer = await startRedisServer();
  admin = await rawClient(privateServer.url);
});
afterAll(async () => {
  await admin?.close();
  await privateServer?.dispose();
});

describe('subscribe', () => {
  it('delivers the events of one session to its listener, and nothing after unsubscribing', async () => {
    const store = testStore(client);
    const session = await store.create({ userId: 'u' });
    const other = await store.create({ userId: 'u' });
    const seen: SessionEvent[] = [];
    const unsubscribe = await store.subscribe(session.id, (event) => seen.push(event));
    await other.appendTurn({ role: 'user', content: 'elsewhere' });
    await session.appendTurn({ role: 'user', content: 'hello' });
    await eventually('the turn event', () => seen.length === 1);
    expect(seen[0]).toEqual({ sessionId: session.id, type: 'turn_appended', seq: 1, at: expect.any(Number) });
    await unsubscribe();
    expect(await channelsUnder(client, store.keyPrefix)).toEqual([]);
  });

  it('many listeners on one channel are one SUBSCRIBE on one connection; the last unsubscribe leaves no channel and closes it', async () => {
    const own = await rawClient(privateServer.url);
    try {
      const store = testStore(own);
      const a = await store.create();
      const b = await store.create();
      const channelA = `${store.keyPrefix}{${a.id}}:events`;
      const channelB = `${store.keyPrefix}{${b.id}}:events`;
      const counts = new Map<number, number>();
      const unsubscribes = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.subscribe(i % 2 === 0 ? a.id : b.id, () => counts.set(i, (counts.get(i) ?? 0) + 1))),
      );
      // A second store on the same connection shares the subscriber connection too.
      const second = testStore(own, { keyPrefix: store.keyPrefix });
      unsubscribes.push(await second.subscribe(a.id, () => undefined));
      expect(await subscriberCount(admin, channelA)).toBe(1);
      expect(await subscriberCount(admin, channelB)).toBe(1);
      expect(await channelsUnder(admin, store.keyPrefix)).toEqual([channelA, channelB].sort());
      // One subscriber connection, subscribed to both channels.
      expect((await pubsubConnections(admin)).map(({ sub }) => sub)).toEqual([2]);
      await a.appendTurn({ role: 'user', content: 'x' });
      await eventually('every listener of a heard it', () => [...counts.keys()].length === 10);
      for (const [i, count] of counts) {
        expect(i % 2).toBe(0);
        expect(count).toBe(1);
      }
      // All but one of each channel leave: both still subscribed.
      await Promise.all([...unsubscribes.slice(0, 18), unsubscribes[20]!].map((unsubscribe) => unsubscribe()));
      expect(await subscriberCount(admin, channelA)).toBe(1);
      expect(await subscriberCount(admin, channelB)).toBe(1);
      await Promise.all(unsubscribes.slice(18, 20).map((unsubscribe) => unsubscribe()));
      expect(await channelsUnder(admin, store.keyPrefix)).toEqual([]);
      // No channel left: the subscriber connection is closed.
      await eventually('the subscriber connection closed', async () => (await pubsubConnections(admin)).length === 0);
      // Unsubscribing twice is harmless; subscribing again opens a new connection.
      await unsubscribes[0]?.();
      const again = await store.subscribe(a.id, () => undefined);
      expect((await pubsubConnections(admin)).map(({ sub }) => sub)).toEqual([1]);
      await again();
    } finally {
      await own.close();
    }
  });

  it('joining and leaving one channel at once never loses the subscription', async () => {
    const store = testStore(client);
    const session = await store.create();
    const channel = `${store.keyPrefix}{${session.id}}:events`;
    const first = await store.subscribe(session.id, () => undefined);
    // The last listener leaves while a new one joins: the joiner must end up subscribed.
    const [, last] = await Promise.all([first(), store.subscribe(session.id, () => undefined)]);
    expect(await subscriberCount(client, channel)).toBe(1);
    await last();
    expect(await subscriberCount(client, channel)).toBe(0);
  });

  it('closing the Redis connection closes the subscriber connection', async () => {
    const own = await rawClient(privateServer.url);
    const store = testStore(own);
    await store.subscribe('some-session', () => undefined);
    expect((await pubsubConnections(admin)).length).toBe(1);
    await own.close();
    await eventually('the subscriber connection closed', async () => (await pubsubConnections(admin)).length === 0);
  });

  it('an idle subscriber of a connectRedis connection stays connected well past failFastMs (its socket timeout)', async () => {
    const redis = await connectRedis({ url: privateServer.url, failFastMs: 300, logger: () => {} });
    try {
      const store = testStore(admin, { redis });
      let gaps = 0;
      const unsubscribe = await store.subscribe('idle-session', () => undefined, { onGap: () => (gaps += 1) });
      const [subscriber] = await pubsubConnections(admin);
      // CLIENT LIST's age is in whole seconds: 2 s is more than six socket timeouts of 300 ms.
      await eventually('the subscriber connection is 2 s old', async () => {
        const list = String(await admin.sendCommand(['CLIENT', 'LIST', 'ID', subscriber?.id ?? '']));
        return Number(/\bage=(\d+)/.exec(list)?.[1] ?? 0) >= 2;
      });
      expect(gaps).toBe(0);
      expect((await pubsubConnections(admin)).map(({ id }) => id)).toEqual([subscriber?.id]);
      await unsubscribe();
    } finally {
      await redis.close();
    }
  });

  it('an ACL user without the channels: the write lands, no event is sent, and subscribe is refused with RedisPermissionError', async () => {
    const prefix = `acl${Date.now()}:`;
    // The app's line without its channel pattern (Redis 7 users start with no channels).
    await admin.sendCommand(['ACL', 'SETUSER', 'no-channels', 'reset', 'on', '>pw', `~${prefix}*`, ...ACL_LINES.app.map((command) => `+${command}`)]);
    const limited = await rawClient(privateServer.url.replace('redis://', 'redis://no-channels:pw@'));
    try {
      const store = testStore(limited, { keyPrefix: prefix });
      const watcher = testStore(admin, { keyPrefix: prefix });
      const seen: string[] = [];
      const session = await store.create({ userId: 'u' });
      const unsubscribe = await watcher.subscribe(session.id, (event) => seen.push(event.type));
      const turn = await store.session(session.id, { user: 'u' }).appendTurn({ role: 'user', content: 'x' });
      expect(turn.seq).toBe(1);
      // The same change through a user with the channels is heard: the first one was not.
      await watcher.session(session.id, { user: 'u' }).appendTurn({ role: 'user', content: 'y' });
      await eventually('the second event', () => seen.length > 0);
      expect(seen).toEqual(['turn_appended']);
      await expect(store.subscribe(session.id, () => undefined)).rejects.toThrow(RedisPermissionError);
      await unsubscribe();
    } finally {
      await limited.close();
      await admin.sendCommand(['ACL', 'DELUSER', 'no-channels']);
    }
  });

  it('after its Redis connection was closed, subscribe is refused with StoreUnavailableError', async () => {
    const own = await rawClient(privateServer.url);
    const store = testStore(own);
    await (await store.subscribe('s1', () => undefined))();
    await store.subscribe('s1', () => undefined);
    await own.close();
    await expect(store.subscribe('s2', () => undefined)).rejects.toThrow(StoreUnavailableError);
    await eventually('no subscriber connection left', async () => (await pubsubConnections(admin)).length === 0);
  });

  it('an aborted signal unsubscribes', async () => {
    const store = testStore(client);
    const controller = new AbortController();
    await store.subscribe('aborted-session', () => undefined, { signal: controller.signal });
    expect(await channelsUnder(client, store.keyPrefix)).toHaveLength(1);
    controller.abort();
    await eventually('unsubscribed', async () => (await channelsUnder(client, store.keyPrefix)).length === 0);
  });
});

describe('events()', () => {
  it('yields events and ends when the signal aborts', async () => {
    const store = testStore(client);
    const session = await store.create();
    const controller = new AbortController();
    const seen: string[] = [];
    const loop = (async () => {
      for await (const event of store.events(session.id, { signal: controller.signal })) {
        seen.push(event.type);
        if (seen.length === 2) controller.abort();
      }
    })();
    await eventually('subscribed', async () => (await channelsUnder(client, store.keyPrefix)).length === 1);
    await session.appendTurn({ role: 'user', content: 'one' });
    await session.appendTurn({ role: 'assistant', content: 'two' });
    await loop;
    expect(seen).toEqual(['turn_appended', 'turn_appended']);
    await eventually('unsubscribed', async () => (await channelsUnder(client, store.keyPrefix)).length === 0);
  });

  it('ends at once for a signal that is already aborted', async () => {
    const store = testStore(client);
    const items: unknown[] = [];
    for await (const item of store.events('any-id', { signal: AbortSignal.abort() })) items.push(item);
    expect(items).toEqual([]);
  });
});

describe('a reconnect of the subscriber connection', () => {
  it('is reported as a gap, and events flow again', async () => {
    const own = await rawClient(privateServer.url);
    try {
      const store = testStore(own);
      const session = await store.create();
      const channel = `${store.keyPrefix}{${session.id}}:events`;
      const seen: string[] = [];
      let gaps = 0;
      const unsubscribe = await store.subscribe(session.id, (event) => seen.push(event.type), { onGap: () => (gaps += 1) });
      const controller = new AbortController();
      const iterated: string[] = [];
      const loop = (async () => {
        for await (const item of store.events(session.id, { signal: controller.signal })) iterated.push(item.type);
      })();
      await eventually('both listening', async () => (await subscriberCount(admin, channel)) === 1);
      await session.appendTurn({ role: 'user', content: 'before' });
      await eventually('the first event', () => seen.length === 1 && iterated.length === 1);
      // Kill the subscriber connection (the one subscribed to the channel).
      const [subscriber, ...others] = await pubsubConnections(admin);
      expect(others).toEqual([]);
      await admin.sendCommand(['CLIENT', 'KILL', 'ID', subscriber?.id ?? '']);
      await eventually('the gap', () => gaps === 1 && iterated.includes('gap'));
      await eventually('subscribed again', async () => (await subscriberCount(admin, channel)) === 1);
      await session.appendTurn({ role: 'user', content: 'after' });
      await eventually('the event after the reconnect', () => seen.length === 2 && iterated.filter((t) => t === 'turn_appended').length === 2);
      expect(iterated).toEqual(['turn_appended', 'gap', 'turn_appended']);
      controller.abort();
      await loop;
      await unsubscribe();
      expect(await subscriberCount(admin, channel)).toBe(0);
    } finally {
      await own.close();
    }
  });
});

describe('many subscribes and unsubscribes at once', () => {
  it('leave no channel, no listener and no connection behind', async () => {
    const own = await rawClient(privateServer.url);
    try {
      const store = testStore(own);
      const ids = Array.from({ length: 10 }, (_, i) => `s${i}`);
      // 300 listeners join and leave in a shuffled, overlapping order.
      await Promise.all(
        Array.from({ length: 300 }, async (_, i) => {
          const controller = new AbortController();
          const unsubscribe = await store.subscribe(ids[i % ids.length]!, () => undefined, { signal: controller.signal });
          if (i % 3 === 0) controller.abort();
          else await unsubscribe();
        }),
      );
      // And iterators, each ended by its signal once it is subscribed.
      await Promise.all(
        ids.map(async (id) => {
          const controller = new AbortController();
          const iterator = store.events(id, { signal: controller.signal })[Symbol.asyncIterator]();
          const next = iterator.next();
          await eventually('the iterator subscribed', async () => (await channelsUnder(admin, `${store.keyPrefix}{${id}}`)).length === 1);
          controller.abort();
          expect(await next).toEqual({ done: true, value: undefined });
        }),
      );
      await eventually('no channel left', async () => (await channelsUnder(admin, store.keyPrefix)).length === 0);
      await eventually('no subscriber connection left', async () => (await pubsubConnections(admin)).length === 0);
    } finally {
      await own.close();
    }
  });
});

describe('a reconnect of the subscriber of a connectRedis connection', () => {
  it('is reported as a gap (the duplicate inherits the connection\'s reconnect strategy), and events flow again', async () => {
    const redis = await connectRedis({ url: privateServer.url, logger: () => {} });
    try {
      const store = testStore(admin, { redis });
      const session = await store.create();
      const channel = `${store.keyPrefix}{${session.id}}:events`;
      const seen: string[] = [];
      let gaps = 0;
      const unsubscribe = await store.subscribe(session.id, (event) => seen.push(event.type), { onGap: () => (gaps += 1) });
      const [subscriber, ...others] = await pubsubConnections(admin);
      expect(others).toEqual([]);
      await admin.sendCommand(['CLIENT', 'KILL', 'ID', subscriber?.id ?? '']);
      await eventually('the gap', () => gaps === 1);
      await eventually('subscribed again', async () => (await subscriberCount(admin, channel)) === 1);
      await session.appendTurn({ role: 'user', content: 'after' });
      await eventually('the event after the reconnect', () => seen.includes('turn_appended'));
      await unsubscribe();
      await eventually('the subscriber connection closed', async () => (await pubsubConnections(admin)).length === 0);
    } finally {
      await redis.close();
    }
  });
});

describe('a consumer of events() that does not read', () => {
  it('holds at most MAX_BUFFERED_EVENTS; what it did not read gives way to one gap', async () => {
    const store = testStore(client);
    const id = 'slow-reader';
    const channel = `${store.keyPrefix}{${id}}:events`;
    const controller = new AbortController();
    // The iterator subscribes when it is created, before anything is read.
    const iterator = store.events(id, { signal: controller.signal })[Symbol.asyncIterator]();
    let arrived = 0;
    // Subscriptions are made one after another: once this one is, the iterator's is too.
    const unsubscribe = await store.subscribe(id, () => (arrived += 1));
    const total = MAX_BUFFERED_EVENTS + 5;
    for (let seq = 1; seq <= total; seq++) {
      await client.publish(channel, JSON.stringify({ sessionId: id, type: 'turn_appended', seq, at: seq }));
    }
    await eventually('every message delivered', () => arrived === total);
    // Nothing was read: the buffer filled up with 1..MAX, and the next event replaced them with a gap.
    const rest: unknown[] = [];
    for (;;) {
      const item = (await Promise.race([iterator.next(), new Promise((resolve) => setImmediate(() => resolve(undefined)))])) as
        | IteratorResult<{ type: string; seq?: number }>
        | undefined;
      if (!item) break;
      rest.push(item.value.type === 'gap' ? 'gap' : item.value.seq);
    }
    expect(rest).toEqual(['gap', ...Array.from({ length: 5 }, (_, i) => MAX_BUFFERED_EVENTS + 1 + i)]);
    controller.abort();
    await unsubscribe();
  });
});
