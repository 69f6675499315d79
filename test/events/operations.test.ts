import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionUserMismatchError } from 'agent-session';
import { clientForThisFile, testStore } from '../harness/store.js';
import { tapPrefix, type Tap } from './support.js';

/**
 * Every change to a session publishes exactly one event, from the script
 * that makes it, on '<prefix>{<id>}:events', and no event carries content.
 */

const MARKER = 'SECRET-MARKER-7f3a';
const client = clientForThisFile();

describe('each operation publishes its one event', () => {
  let tap: Tap;
  let prefix: string;
  let store: ReturnType<typeof testStore>;
  beforeAll(async () => {
    store = testStore(client);
    prefix = store.keyPrefix;
    tap = await tapPrefix(prefix);
  });
  afterAll(async () => {
    await tap.close();
  });

  it('create, append, update, tool calls, notes, observer error, observation, delete, restore', async () => {
    const session = await store.create({ userId: 'u1', currentTask: MARKER, model: 'm', fields: { note: MARKER } });
    expect(await session.meta()).toMatchObject({ userId: 'u1', currentTask: MARKER, model: 'm', fields: { note: MARKER } });
    const id = session.id;
    const channel = `${prefix}{${id}}:events`;
    const turn = await session.appendTurn({ role: 'user', content: MARKER }, { idempotencyKey: 'm1' });
    // A repeat of an idempotent append changes nothing: no event.
    await session.appendTurn({ role: 'user', content: MARKER }, { idempotencyKey: 'm1' });
    await session.update({ currentTask: `${MARKER}-2`, model: null, fields: { note: null, other: 'o' } });
    // The events argument sits before the variadic ones of create and updateMeta: they still land where they belong.
    expect(await session.meta()).toMatchObject({ userId: 'u1', currentTask: `${MARKER}-2`, fields: { other: 'o' } });
    expect((await session.meta()).fields).not.toHaveProperty('note');
    await session.startToolCall({ id: 'c1', name: 'search', args: { q: MARKER } });
    await session.completeToolCall('c1', { found: MARKER });
    await session.startToolCall({ id: 'c2', name: 'search', args: { q: MARKER } });
    await session.failToolCall('c2', new Error(MARKER));
    const observer = store.session(id, { trusted: 'observer' });
    await observer.writeNotes({ summary: MARKER }, { coversThroughSeq: turn.seq });
    // Notes older than the stored ones are not written: no event.
    expect(await observer.writeNotes({ summary: MARKER }, { coversThroughSeq: 0 })).toBe(false);
    await observer.writeObserverError(MARKER);
    expect((await session.requestObservation()).outcome).toBe('queued');
    // Coalesced into the queued job: nothing queued, no event.
    expect((await session.requestObservation()).outcome).toBe('coalesced');
    await session.delete();
    // Nothing left to delete: no event.
    await session.delete();
    const restored = await store.session(id, { user: 'u1' }).restore({
      meta: { userId: 'u1', fields: {}, createdAt: 1, lastActive: 2, turnCount: 1, idleTimeoutMs: 60_000 },
      turns: [{ kind: 'turn', seq: 1, ts: 2, role: 'user', content: MARKER }],
      toolCalls: [],
      notes: null,
      lastSeq: 1,
    });
    expect(restored).toBe('restored');

    await tap.waitFor(12);
    // The marker of the next test, so that a late extra message would be caught.
    await store.create({ id: `${id}-end` });
    await tap.waitFor(13);
    const mine = tap.messages.filter((m) => m.channel === channel);
    expect(tap.messages.length).toBe(13);
    for (const { message } of tap.messages) expect(message).not.toContain(MARKER);
    const events = mine.map((m) => JSON.parse(m.message) as Record<string, unknown>);
    expect(events.map(({ at, ...rest }) => rest)).toEqual([
      { sessionId: id, type: 'created' },
      { sessionId: id, type: 'turn_appended', seq: 1 },
      { sessionId: id, type: 'meta_updated' },
      { sessionId: id, type: 'tool_call_started', callId: 'c1' },
      { sessionId: id, type: 'tool_call_completed', callId: 'c1' },
      { sessionId: id, type: 'tool_call_started', callId: 'c2' },
      { sessionId: id, type: 'tool_call_failed', callId: 'c2' },
      { sessionId: id, type: 'notes_written', seq: 1 },
      { sessionId: id, type: 'observer_error' },
      { sessionId: id, type: 'observation_queued' },
      { sessionId: id, type: 'deleted' },
      { sessionId: id, type: 'restored' },
    ]);
    // Redis's clock (ms), on this machine the same as ours give or take.
    for (const event of events) expect(Math.abs((event.at as number) - Date.now())).toBeLessThan(60_000);
    // In the order the changes were made.
    const times = events.map((event) => event.at as number);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });
});

describe('a call that fails publishes nothing', () => {
  it('another user, a missing session, a corrupt key, a finished tool call', async () => {
    const store = testStore(client);
    const tap = await tapPrefix(store.keyPrefix);
    try {
      const session = await store.create({ userId: 'owner' });
      await session.startToolCall({ id: 'c1', name: 't' });
      await session.completeToolCall('c1', null);
      await tap.waitFor(3);
      const mallory = store.session(session.id, { user: 'mallory' });
      await expect(mallory.appendTurn({ role: 'user', content: MARKER })).rejects.toThrow(SessionUserMismatchError);
      await expect(mallory.update({ currentTask: MARKER })).rejects.toThrow(SessionUserMismatchError);
      await expect(mallory.delete()).rejects.toThrow(SessionUserMismatchError);
      await expect(mallory.requestObservation()).rejects.toThrow(SessionUserMismatchError);
      await expect(session.completeToolCall('c1', MARKER)).rejects.toThrow();
      await expect(store.session('no-such-session', { user: 'owner' }).appendTurn({ role: 'user', content: MARKER })).rejects.toThrow();
      await expect(store.create({ id: session.id })).rejects.toThrow();
      const corrupt = await store.create({ userId: 'owner' });
      await tap.waitFor(4);
      await client.set(corrupt.keys.turns, 'not a list');
      await expect(corrupt.appendTurn({ role: 'user', content: MARKER })).rejects.toThrow();
      await expect(corrupt.update({ currentTask: MARKER })).rejects.toThrow();
      // A message published after the failures arrives after any they could have sent.
      await session.update({ model: 'after' });
      await tap.waitFor(5);
      expect(tap.messages.map((m) => (JSON.parse(m.message) as { type: string }).type)).toEqual([
        'created',
        'tool_call_started',
        'tool_call_completed',
        'created',
        'meta_updated',
      ]);
    } finally {
      await tap.close();
    }
  });

  it('events: false publishes nothing', async () => {
    const store = testStore(client, { events: false });
    const loud = testStore(client);
    const tap = await tapPrefix(store.keyPrefix);
    try {
      const session = await store.create({ userId: 'u' });
      await session.appendTurn({ role: 'user', content: 'x' });
      await session.delete();
      // Same prefix, events on: its message comes after anything the quiet store could have sent.
      await loud.session(session.id, { user: 'u' }).appendTurn({ role: 'user', content: 'x' }).catch(() => undefined);
      const other = testStore(client, { keyPrefix: store.keyPrefix });
      await other.create({ id: 'marker' });
      await tap.waitFor(1);
      expect(tap.messages.map((m) => JSON.parse(m.message) as { sessionId: string })).toEqual([expect.objectContaining({ sessionId: 'marker' })]);
    } finally {
      await tap.close();
    }
  });
});
