import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionHandle } from '../../src/core/agent-session.js';
import { SessionStore } from '../../src/core/agent-store.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { watchCommands, type CommandCounter } from '../harness/command-counter.js';
import { rawClient, uniquePrefix, type TestClient } from '../harness/store.js';

const IDLE_MS = 600_000;

// A private server, so that command counts are this file's alone.
let server: RedisServer;
let client: TestClient;
let inspector: TestClient;
let store: SessionStore;
let counter: CommandCounter;

beforeAll(async () => {
  server = await startRedisServer();
  client = await rawClient(server.url);
  inspector = await rawClient(server.url);
  store = new SessionStore({ redis: { client, failFastMs: 2_000 }, keyPrefix: uniquePrefix(), idleTimeoutMs: IDLE_MS });
  counter = await watchCommands(server.url);
});
afterAll(async () => {
  await counter.close();
  await client.close();
  await inspector.close();
  await server.dispose();
});

const stateKeysOf = (session: SessionHandle) => [session.keys.meta, session.keys.turns, session.keys.tools, session.keys.observer];

/** Lowers every key's TTL, so that a reset to the idle timeout is visible. */
async function age(session: SessionHandle) {
  for (const key of stateKeysOf(session)) await inspector.pExpire(key, 5_000);
}

/** Every key still has the lowered TTL: none was reset (and none lost its TTL or vanished). */
async function expectAgedTtl(session: SessionHandle) {
  for (const key of stateKeysOf(session)) {
    const pttl = await inspector.pTTL(key);
    expect(pttl, key).toBeGreaterThan(0);
    expect(pttl, key).toBeLessThanOrEqual(5_000);
  }
}

async function expectFreshTtl(session: SessionHandle) {
  for (const key of stateKeysOf(session)) {
    const pttl = await inspector.pTTL(key);
    expect(pttl, key).toBeGreaterThan(IDLE_MS - 60_000);
    expect(pttl, key).toBeLessThanOrEqual(IDLE_MS);
  }
}


async function fullSession() {
  const session = await store.create({ userId: 'u1' });
  await session.appendTurn({ role: 'user', content: 'hi' });
  await session.startToolCall({ id: 'c1', name: 'lookup' });
  await session.writeNotes({ s: 1 }, { coversThroughSeq: 1 });
  return session;
}

describe('activity-based TTL', () => {
  it.each<[string, (session: SessionHandle) => Promise<unknown>]>([
    ['appendTurn', (s) => s.appendTurn({ role: 'assistant', content: 'ok' })],
    ['update', (s) => s.update({ currentTask: 'booking' })],
    ['startToolCall', (s) => s.startToolCall({ id: 'c2', name: 'book' })],
    ['completeToolCall', (s) => s.completeToolCall('c1', { ok: true })],
    ['failToolCall', (s) => s.failToolCall('c1', 'boom')],
    ['writeNotes', (s) => s.writeNotes({ s: 2 }, { coversThroughSeq: 1 })],
    ['writeObserverError', (s) => s.writeObserverError('analysis failed')],
    ['touch', (s) => s.touch()],
    ['snapshot (a read counts as activity)', (s) => s.snapshot()],
  ])('%s resets the TTL of every key of the session', async (_name, operation) => {
    const session = await fullSession();
    await age(session);
    await operation(session);
    await expectFreshTtl(session);
  });

  it('creation sets the TTL on the keys it creates', async () => {
    const session = await store.create();
    const pttl = await inspector.pTTL(session.keys.meta);
    expect(pttl).toBeGreaterThan(IDLE_MS - 60_000);
  });

  it('a background reader (the observer) leaves TTLs alone', async () => {
    const session = await fullSession();
    await age(session);
    await store.session(session.id, { trusted: 'observer' }).snapshot();
    await expectAgedTtl(session);
  });

  it("a background writer resets TTLs to the session's own idle timeout, not its store's", async () => {
    const session = await fullSession();
    const observerStore = new SessionStore({ redis: { client, failFastMs: 2_000 }, keyPrefix: store.keyPrefix });
    await age(session);
    await observerStore.session(session.id, { trusted: 'observer' }).writeNotes({ s: 3 }, { coversThroughSeq: 1 });
    await expectFreshTtl(session);
  });

  it('touch() refreshes all keys in exactly one command', async () => {
    const session = await fullSession();
    await session.touch(); // the script is now loaded; later calls are one EVALSHA
    await age(session);
    expect(await counter.during(() => session.touch())).toEqual([expect.stringMatching(/^EVALSHA /)]);
    await expectFreshTtl(session);
  });

  it('each write is a single command (one round trip)', async () => {
    const session = await fullSession();
    await session.appendTurn({ role: 'user', content: 'warm the script cache' });
    expect(await counter.during(() => session.appendTurn({ role: 'user', content: 'x' }))).toEqual([expect.stringMatching(/^EVALSHA /)]);
    expect(await counter.during(() => session.snapshot())).toEqual([expect.stringMatching(/^EVALSHA /)]);
  });

  it('touchAlong() extends another key on the node and touches every key, in one command', async () => {
    const session = await fullSession();
    const cookieKey = `${store.keyPrefix}sess:abc`;
    await session.touchAlong(cookieKey, 5_000); // loads the script: later calls are one EVALSHA
    await inspector.set(cookieKey, '{}', { expiration: { type: 'PX', value: 5_000 } });
    await age(session);
    const commands = await counter.during(async () => {
      expect(await session.touchAlong(cookieKey, IDLE_MS)).toEqual({ touched: true, extended: true });
    });
    expect(commands).toEqual([expect.stringMatching(/^EVALSHA /)]);
    await expectFreshTtl(session);
    expect(await inspector.pTTL(cookieKey)).toBeGreaterThan(IDLE_MS - 60_000);

    // Neither key is recreated; another user's session is left as it was, the other key still extended.
    await inspector.del(cookieKey);
    expect(await session.touchAlong(cookieKey, IDLE_MS)).toEqual({ touched: true, extended: false });
    expect(await inspector.exists(cookieKey)).toBe(0);
    await inspector.set(cookieKey, '{}', { expiration: { type: 'PX', value: 5_000 } });
    await age(session);
    expect(await store.session(session.id, { user: 'mallory' }).touchAlong(cookieKey, IDLE_MS)).toEqual({ touched: false, extended: true });
    await expectAgedTtl(session);
  });

  it('touch() of a session that is gone returns false and creates nothing', async () => {
    const session = store.session('never-created', { user: null });
    expect(await session.touch()).toBe(false);
    expect(await inspector.exists(stateKeysOf(session))).toBe(0);
  });
});
