import { describe, expect, it } from 'vitest';
import type { SessionEvent } from 'agent-session';
import { clientForThisFile, rawClient, testStore } from '../harness/store.js';
import { eventually } from '../harness/wait.js';

/**
 * The subscription API: one shared subscriber connection, reference-counted
 * per channel, gaps after a reconnect, the async-iterator form and its
 * AbortSignal.
 */

const client = clientForThisFile();

/** Subscribers of a channel, as the server counts them. */
async function subscribers(channel: string): Promise<number> {
  const reply = (await client.sendCommand(['PUBSUB', 'NUMSUB', channel])) as [string, number];
  return Number(reply[1]);
}

async function channelsUnder(prefix: string): Promise<string[]> {
  return ((await client.sendCommand(['PUBSUB', 'CHANNELS', `${prefix}*`])) as string[]).sort();
}

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
    expect(await channelsUnder(store.keyPrefix)).toEqual([]);
  });

  it('many listeners on one channel are one SUBSCRIBE on one connection; the last unsubscribe leaves no channel', async () => {
    const store = testStore(client);
    const a = await store.create();
    const b = await store.create();
    const channelA = `${store.keyPrefix}{${a.id}}:events`;
    const channelB = `${store.keyPrefix}{${b.id}}:events`;
    const counts = new Map<number, number>();
    const unsubscribes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.subscribe(i % 2 === 0 ? a.id : b.id, () => counts.set(i, (counts.get(i) ?? 0) + 1)),
      ),
    );
    expect(await subscribers(channelA)).toBe(1);
    expect(await subscribers(channelB)).toBe(1);
    expect(await channelsUnder(store.keyPrefix)).toEqual([channelA, channelB].sort());
    // One subscriber connection for both channels.
    const list = String(await client.sendCommand(['CLIENT', 'LIST', 'TYPE', 'pubsub']));
    const mine = list.split('\n').filter((line) => / sub=2 /.test(line));
    expect(mine.length).toBeGreaterThanOrEqual(1);
    await a.appendTurn({ role: 'user', content: 'x' });
    await eventually('every listener of a heard it once', () => [...counts.keys()].filter((i) => i % 2 === 0).length === 10);
    for (const [i, count] of counts) {
      expect(i % 2).toBe(0);
      expect(count).toBe(1);
    }
    // All but one leave: still subscribed.
    await Promise.all(unsubscribes.slice(0, 18).map((unsubscribe) => unsubscribe()));
    expect(await subscribers(channelA)).toBe(1);
    expect(await subscribers(channelB)).toBe(1);
    await Promise.all(unsubscribes.slice(18).map((unsubscribe) => unsubscribe()));
    expect(await channelsUnder(store.keyPrefix)).toEqual([]);
    // Unsubscribing twice is harmless.
    await unsubscribes[0]?.();
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
    await eventually('subscribed', async () => (await channelsUnder(store.keyPrefix)).length === 1);
    await session.appendTurn({ role: 'user', content: 'one' });
    await session.appendTurn({ role: 'assistant', content: 'two' });
    await loop;
    expect(seen).toEqual(['turn_appended', 'turn_appended']);
    await eventually('unsubscribed', async () => (await channelsUnder(store.keyPrefix)).length === 0);
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
    const own = await rawClient();
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
      await eventually('both listening', async () => (await subscribers(channel)) === 1);
      await session.appendTurn({ role: 'user', content: 'before' });
      await eventually('the first event', () => seen.length === 1 && iterated.length === 1);
      // Kill the subscriber connection (the one subscribed to the channel).
      const list = String(await client.sendCommand(['CLIENT', 'LIST', 'TYPE', 'pubsub']));
      const line = list.split('\n').find((l) => / sub=1 /.test(l) && / psub=0 /.test(l) && l.includes(' cmd=subscribe') ) ?? '';
      const id = /\bid=(\d+)/.exec(line)?.[1];
      expect(id).toBeDefined();
      await client.sendCommand(['CLIENT', 'KILL', 'ID', id ?? '']);
      await eventually('the gap', () => gaps === 1 && iterated.includes('gap'));
      await eventually('subscribed again', async () => (await subscribers(channel)) === 1);
      await session.appendTurn({ role: 'user', content: 'after' });
      await eventually('the event after the reconnect', () => seen.length === 2 && iterated.filter((t) => t === 'turn_appended').length === 2);
      expect(iterated).toEqual(['turn_appended', 'gap', 'turn_appended']);
      controller.abort();
      await loop;
      await unsubscribe();
      expect(await subscribers(channel)).toBe(0);
    } finally {
      await own.close();
    }
  });
});
