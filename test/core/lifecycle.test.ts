import { describe, expect, it } from 'vitest';
import { SessionExistsError, SessionNotFoundError } from 'agent-session';
import { keysUnder, clientForThisFile, testStore } from '../harness/store.js';

const client = clientForThisFile();

describe('create, metadata and delete', () => {
  it('records metadata at creation and updates fields one by one', async () => {
    const store = testStore(client);
    const session = await store.create({ userId: 'u1', agentId: 'support-bot', model: 'm-1', fields: { locale: 'en' } });
    const meta = await session.meta();
    expect(meta).toMatchObject({ id: session.id, userId: 'u1', agentId: 'support-bot', model: 'm-1', turnCount: 0, fields: { locale: 'en' } });
    expect(meta.createdAt).toBeGreaterThan(0);
    expect(meta.lastActive).toBeGreaterThanOrEqual(meta.createdAt);

    await session.update({ currentTask: 'refund', fields: { plan: 'pro', locale: null } });
    const updated = await session.meta();
    expect(updated).toMatchObject({ currentTask: 'refund', model: 'm-1', fields: { plan: 'pro' } });
    expect(updated.fields).not.toHaveProperty('locale');
    // Field-level writes: the hash was changed in place, not rewritten.
    expect(await client.hGet(session.keys.meta, 'f:plan')).toBe('pro');
  });

  it('refuses to create over an existing id', async () => {
    const store = testStore(client);
    const session = await store.create({ id: 'fixed-id', model: 'a' });
    await expect(store.create({ id: 'fixed-id', model: 'b' })).rejects.toThrow(SessionExistsError);
    expect((await session.meta()).model).toBe('a');
  });

  it('tool calls move from pending to completed or failed, each kept apart', async () => {
    const session = await testStore(client).create();
    const started = await session.startToolCall({ id: 'call_a', name: 'search', args: { q: 'flights' } });
    expect(started).toMatchObject({ id: 'call_a', status: 'pending', args: { q: 'flights' } });
    await session.startToolCall({ id: 'call_b', name: 'book' });
    await session.completeToolCall('call_a', { hits: 3 });
    await session.failToolCall('call_b', new Error('no seats'));
    const calls = await session.toolCalls();
    expect(calls.map((c) => [c.id, c.status])).toEqual([
      ['call_a', 'completed'],
      ['call_b', 'failed'],
    ]);
    expect(calls[0]).toMatchObject({ name: 'search', result: { hits: 3 } });
    expect(calls[1]).toMatchObject({ name: 'book', error: 'no seats', args: null });
    expect(calls[1]!.finishedAt).toBeGreaterThanOrEqual(calls[1]!.startedAt);
    await expect(session.completeToolCall('call_a', 'again')).rejects.toMatchObject({ code: 'TOOL_CALL_STATE' });
    await expect(session.completeToolCall('call_zzz', 1)).rejects.toMatchObject({ code: 'TOOL_CALL_NOT_FOUND' });
    await expect(session.startToolCall({ id: 'call_a', name: 'x' })).rejects.toMatchObject({ code: 'TOOL_CALL_STATE' });
  });

  it('delete removes every key; later writes fail and recreate nothing', async () => {
    const store = testStore(client);
    const session = await store.create({ userId: 'u1' });
    await session.appendTurn({ role: 'user', content: 'x' }, { idempotencyKey: 'm1' });
    await session.startToolCall({ id: 'c', name: 't' });
    await session.writeNotes({}, { coversThroughSeq: 1 });
    await client.set(session.keys.lease, 'token');
    // meta, turns, tools, observer, lease, the tool-call order and the idempotency records
    expect(await keysUnder(client, store.keyPrefix)).toHaveLength(7);

    await session.delete();
    expect(await keysUnder(client, store.keyPrefix)).toEqual([]);
    await expect(session.appendTurn({ role: 'user', content: 'y' })).rejects.toThrow(SessionNotFoundError);
    await expect(session.writeNotes({}, { coversThroughSeq: 2 })).rejects.toThrow(SessionNotFoundError);
    await expect(session.startToolCall({ id: 'd', name: 't' })).rejects.toThrow(SessionNotFoundError);
    await expect(session.meta()).rejects.toThrow(SessionNotFoundError);
    expect(await session.touch()).toBe(false);
    expect(await keysUnder(client, store.keyPrefix)).toEqual([]);
  });
});
