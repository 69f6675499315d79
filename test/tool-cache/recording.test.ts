import { describe, expect, it } from 'vitest';
import { clientForThisFile, testStore } from '../harness/store.js';
import { testCache } from './support.js';

/**
 * A call through the cache is still a tool call of the agent session, so the
 * transcript stays true: a cached answer shows as a completed call marked
 * `cached: true`, a run as a plain completed call, a tool error as a failed one.
 */
const client = clientForThisFile();

describe('recording calls in the agent session', () => {
  it('a run, a cached hit and a failure each show up as the session\'s tool calls', async () => {
    const store = testStore(client);
    const session = await store.create({ userId: 'ada' });
    const { cache } = testCache(client);
    cache.register({ name: 'lookup_order', scope: 'session', ttlMs: 60_000, audit: false });
    const tool = async (args: unknown) => ({ status: 'shipped', order: (args as { orderId: string }).orderId });
    await cache.call('lookup_order', { orderId: 'A17' }, tool, { record: { session, callId: 'call_1' } });
    await cache.call('lookup_order', { orderId: 'A17' }, tool, { record: { session, callId: 'call_2' } });
    await expect(
      cache.call('lookup_order', { orderId: 'B2' }, async () => {
        throw new Error('order service down');
      }, { record: { session, callId: 'call_3' } }),
    ).rejects.toThrow('order service down');
    const calls = await session.toolCalls();
    expect(calls.map(({ id, status, cached, result, error }) => ({ id, status, cached, result, error }))).toEqual([
      { id: 'call_1', status: 'completed', cached: undefined, result: { status: 'shipped', order: 'A17' }, error: undefined },
      { id: 'call_2', status: 'completed', cached: true, result: { status: 'shipped', order: 'A17' }, error: undefined },
      { id: 'call_3', status: 'failed', cached: undefined, result: undefined, error: 'order service down' },
    ]);
    expect(calls[1]?.args).toEqual({ orderId: 'A17' });
  });

  it("a recorder whose session id comes with its first write (req.agent): the id is read after the call is started", async () => {
    const store = testStore(client);
    const session = await store.create({ userId: 'ada' });
    let started = false;
    const lazy = {
      get id() {
        return started ? session.id : undefined;
      },
      startToolCall: (input: Parameters<typeof session.startToolCall>[0]) => {
        started = true;
        return session.startToolCall(input);
      },
      completeToolCall: session.completeToolCall.bind(session),
      failToolCall: session.failToolCall.bind(session),
    };
    const { cache } = testCache(client);
    cache.register({ name: 'scratch', scope: 'session', ttlMs: 60_000, audit: false });
    await cache.call('scratch', {}, async () => 1, { record: { session: lazy, callId: 'c1' } });
    await expect(cache.call('scratch', {}, async () => 2, { sessionId: session.id })).resolves.toMatchObject({ source: 'cache', result: 1 });
  });

  it("a 'session' scope takes the session's id from the recorded session", async () => {
    const store = testStore(client);
    const one = await store.create({ userId: 'ada' });
    const two = await store.create({ userId: 'ada' });
    const { cache } = testCache(client);
    cache.register({ name: 'notes', scope: 'session', ttlMs: 60_000, audit: false });
    let runs = 0;
    const tool = async () => ++runs;
    await cache.call('notes', {}, tool, { record: { session: one, callId: 'c1' } });
    await expect(cache.call('notes', {}, tool, { record: { session: two, callId: 'c1' } })).resolves.toMatchObject({ source: 'run', result: 2 });
    await expect(cache.call('notes', {}, tool, { record: { session: one, callId: 'c2' } })).resolves.toMatchObject({ source: 'cache', result: 1 });
  });
});
