import { describe, expect, it } from 'vitest';
import { InvalidInputError } from 'agent-session';
import type { SessionHandle } from '../../src/core/agent-session.js';
import { clientForThisFile, testStore } from '../harness/store.js';

/**
 * A tool call answered from the tool cache (agent-session/tool-cache) is
 * still a tool call of the session, marked `cached: true`, so the transcript
 * says which results were not freshly computed.
 */

const client = clientForThisFile();

async function newSession(maxToolCalls = 50): Promise<SessionHandle> {
  const store = testStore(client, { maxToolCalls });
  const created = await store.create({ userId: 'u1' });
  return store.session(created.id, { user: 'u1' }) as SessionHandle;
}

describe('a tool call completed from the cache', () => {
  it('reads back with cached: true from toolCall(), toolCalls() and snapshot(); a call that ran has no mark', async () => {
    const session = await newSession();
    await session.startToolCall({ id: 'c1', name: 'search', args: { q: 'x' } });
    await session.completeToolCall('c1', { hits: 1 }, { cached: true });
    await session.startToolCall({ id: 'c2', name: 'search', args: { q: 'y' } });
    await session.completeToolCall('c2', { hits: 2 });
    expect(await session.toolCall('c1')).toMatchObject({ status: 'completed', result: { hits: 1 }, cached: true });
    expect(await session.toolCall('c2')).not.toHaveProperty('cached');
    expect((await session.toolCalls()).map((call) => call.cached)).toEqual([true, undefined]);
    expect((await session.snapshot()).toolCalls[0]).toMatchObject({ id: 'c1', cached: true });
    expect(await client.hGet(session.keys.tools, 'c1:cached')).toBe('1');
  });

  it('a failed call is never marked; cached: false is no mark', async () => {
    const session = await newSession();
    await session.startToolCall({ id: 'c1', name: 'search' });
    await session.failToolCall('c1', 'boom');
    await session.startToolCall({ id: 'c2', name: 'search' });
    await session.completeToolCall('c2', 1, { cached: false });
    expect(await client.hExists(session.keys.tools, 'c1:cached')).toBe(0);
    expect(await client.hExists(session.keys.tools, 'c2:cached')).toBe(0);
  });

  it('a cached value that is not a boolean is InvalidInputError, and the call stays pending', async () => {
    const session = await newSession();
    await session.startToolCall({ id: 'c1', name: 'search' });
    await expect(session.completeToolCall('c1', 1, { cached: 'yes' as unknown as boolean })).rejects.toBeInstanceOf(InvalidInputError);
    expect(await session.toolCall('c1')).toMatchObject({ status: 'pending' });
  });

  it('the mark leaves the hash with its call when the window moves on', async () => {
    const session = await newSession(2);
    for (const id of ['c1', 'c2', 'c3', 'c4']) {
      await session.startToolCall({ id, name: 'search' });
      await session.completeToolCall(id, id, { cached: true });
    }
    const fields = Object.keys(await client.hGetAll(session.keys.tools));
    expect(fields.filter((field) => field.endsWith(':cached')).sort()).toEqual(['c3:cached', 'c4:cached']);
  });
});
