import { describe, expect, it } from 'vitest';
import { CorruptStateError, ToolCallNotFoundError } from 'agent-session';
import type { SessionHandle } from '../../src/core/agent-session.js';
import { clientForThisFile, testStore } from '../harness/store.js';

/**
 * The tool calls are bounded like the turns: a window of `maxToolCalls`,
 * the oldest finished calls leaving first, pending calls never dropped.
 */

const client = clientForThisFile();

async function newSession(maxToolCalls: number): Promise<SessionHandle> {
  const store = testStore(client, { maxToolCalls });
  const created = await store.create({ userId: 'u1' });
  return store.session(created.id, { user: 'u1' }) as SessionHandle;
}

/** The call ids the tools hash holds, from its "<id>:status" fields. */
async function idsInHash(session: SessionHandle): Promise<string[]> {
  const fields = Object.keys(await client.hGetAll(session.keys.tools));
  return fields.filter((field) => field.endsWith(':status')).map((field) => field.slice(0, -':status'.length)).sort();
}

async function startAndFinish(session: SessionHandle, ids: string[]): Promise<void> {
  for (const id of ids) {
    await session.startToolCall({ id, name: 'lookup', args: { id } });
    await session.completeToolCall(id, { id });
  }
}

const range = (from: number, to: number, prefix = 'c') => Array.from({ length: to - from }, (_, i) => `${prefix}${String(from + i).padStart(3, '0')}`);

describe('the tool-call window', () => {
  it('200 finished calls with a window of 10: the hash holds the 10 newest, toolCalls() and snapshot() return them', async () => {
    const session = await newSession(10);
    await startAndFinish(session, range(0, 200));
    expect(await idsInHash(session)).toEqual(range(190, 200));
    // name, status, args, startedAt, result, finishedAt per call: nothing else is left behind
    expect(await client.hLen(session.keys.tools)).toBe(10 * 6);
    expect(await client.zCard(session.keys.toolOrder)).toBe(10);
    expect((await session.toolCalls()).map((call) => call.id)).toEqual(range(190, 200));
    expect((await session.snapshot()).toolCalls.map((call) => call.id)).toEqual(range(190, 200));
  });

  it('pending calls are never dropped; the oldest finished ones leave first', async () => {
    const session = await newSession(5);
    for (const id of ['p1', 'p2', 'p3']) await session.startToolCall({ id, name: 'slow' });
    await startAndFinish(session, range(0, 30));
    const calls = await session.toolCalls();
    expect(calls.filter((call) => call.status === 'pending').map((call) => call.id)).toEqual(['p1', 'p2', 'p3']);
    expect(calls.filter((call) => call.status === 'completed').map((call) => call.id)).toEqual(range(28, 30));
    expect(calls).toHaveLength(5);
    // A pending call can still finish, whatever happened around it.
    await session.completeToolCall('p1', 'done');
    expect(await session.toolCall('p1')).toMatchObject({ status: 'completed', result: 'done' });
  });

  it('more pending calls than the window: all kept; once they finish, the next start trims back to the window', async () => {
    const session = await newSession(3);
    const pending = range(0, 8, 'p');
    for (const id of pending) await session.startToolCall({ id, name: 'slow' });
    expect(await idsInHash(session)).toEqual(pending);
    for (const id of pending) await session.failToolCall(id, 'timeout');
    expect(await idsInHash(session)).toEqual(pending); // finishing drops nothing
    await session.startToolCall({ id: 'next', name: 'fast' });
    expect(await idsInHash(session)).toEqual(['next', 'p006', 'p007']);
  });

  it('an evicted call reads as not found; toolCall(id) reads only its own fields', async () => {
    const session = await newSession(3);
    await startAndFinish(session, range(0, 10));
    await expect(session.toolCall('c000')).rejects.toThrow(ToolCallNotFoundError);
    await expect(session.completeToolCall('c000', 1)).rejects.toThrow(ToolCallNotFoundError);
    // A broken field of another call breaks the whole list, not the read of one call.
    await client.hSet(session.keys.tools, 'c008:args', '{not json');
    await expect(session.toolCalls()).rejects.toThrow(CorruptStateError);
    await expect(session.toolCall('c009')).resolves.toMatchObject({ id: 'c009', status: 'completed', args: { id: 'c009' }, result: { id: 'c009' } });
    await expect(session.toolCall('c007')).resolves.toMatchObject({ id: 'c007' });
  });

  it('a session written before the window existed (no order key, an unbounded hash) is trimmed at its next start', async () => {
    const session = await newSession(5);
    await startAndFinish(session, range(0, 40));
    // As an older agent-session left it: every call in the hash, no order.
    const fields: Record<string, string> = {};
    for (const id of range(0, 40)) {
      Object.assign(fields, {
        [`${id}:name`]: 'lookup',
        [`${id}:status`]: 'completed',
        [`${id}:args`]: '{}',
        [`${id}:startedAt`]: String(1_000 + Number(id.slice(1))),
        [`${id}:result`]: '1',
        [`${id}:finishedAt`]: String(2_000 + Number(id.slice(1))),
      });
    }
    await client.del(session.keys.toolOrder);
    await client.hSet(session.keys.tools, fields);
    expect(await idsInHash(session)).toHaveLength(40);

    await session.startToolCall({ id: 'new', name: 'lookup' });
    expect(await idsInHash(session)).toEqual([...range(36, 40), 'new'].sort());
    expect(await client.zRange(session.keys.toolOrder, 0, -1)).toEqual([...range(36, 40), 'new']);
  });

  it('the order key expires with the tools hash and is deleted with the session', async () => {
    const session = await newSession(5);
    await session.startToolCall({ id: 'a', name: 'x' });
    const [orderTtl, toolsTtl] = await Promise.all([client.pTTL(session.keys.toolOrder), client.pTTL(session.keys.tools)]);
    expect(orderTtl).toBeGreaterThan(0);
    expect(orderTtl).toBeLessThanOrEqual(toolsTtl);
    await session.delete();
    expect(await client.exists([session.keys.toolOrder, session.keys.tools])).toBe(0);
  });

  it('an order key of another type is CorruptStateError naming it; nothing is written', async () => {
    const session = await newSession(5);
    await client.set(session.keys.toolOrder, 'x');
    const state = () => Promise.all([client.hGetAll(session.keys.meta), client.hGetAll(session.keys.tools), client.get(session.keys.toolOrder)]);
    const before = await state();
    await expect(session.startToolCall({ id: 'a', name: 'x' })).rejects.toMatchObject({ code: 'STATE_CORRUPT', key: session.keys.toolOrder });
    expect(await state()).toEqual(before);
  });
});
