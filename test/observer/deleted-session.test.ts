import { describe, expect, it } from 'vitest';
import { keysUnder, testStore } from '../harness/store.js';
import { finished, queueState, startGatedWorker, startWorker, useRedis } from './support.js';

const redis = useRedis();

describe('a job for a session that is gone', () => {
  it('is acknowledged and dropped when the session was deleted while the job waited', async () => {
    const store = testStore(redis.client);
    const session = await store.create();
    await session.appendTurn({ role: 'user', content: 'bye' });
    await session.requestObservation();
    await session.delete();

    let analyzed = false;
    const { events } = await startWorker(store, {
      analyze: () => {
        analyzed = true;
        return {};
      },
    });
    const [ended] = await events.until('the job to be dropped', finished());
    expect(ended).toMatchObject({ outcome: 'session-gone', requeued: false });
    expect(analyzed).toBe(false);
    expect(await keysUnder(redis.client, `${store.keyPrefix}{${session.id}}`)).toEqual([]);
    expect(await queueState(redis.client, store.keyPrefix)).toEqual({ length: 0, pending: 0 });
  });

  it('writes nothing and recreates no key when the session is deleted mid-run', async () => {
    const store = testStore(redis.client);
    const session = await store.create();
    await session.appendTurn({ role: 'user', content: 'bye' });
    const { analyzing, release, events } = await startGatedWorker(store, () => ({ summary: 'too late' }));
    await session.requestObservation();
    await analyzing;
    // A request during the run asks for a rerun; the rerun must not happen for a deleted session either.
    await session.requestObservation();
    await session.delete();
    release();

    const [ended] = await events.until('the run to end', finished());
    expect(ended).toMatchObject({ outcome: 'session-gone', requeued: false });
    expect(await keysUnder(redis.client, `${store.keyPrefix}{${session.id}}`)).toEqual([]);
    expect(await queueState(redis.client, store.keyPrefix)).toEqual({ length: 0, pending: 0 });
  });

  it('is dropped when the session expired after its idle timeout', async () => {
    const store = testStore(redis.client, { idleTimeoutMs: 60_000 });
    const session = await store.create();
    await session.requestObservation();
    // Expiry, without waiting for it: every key of the session reaches its TTL at once.
    await redis.client.del([session.keys.meta, session.keys.turns, session.keys.tools, session.keys.observer]);

    const { events } = await startWorker(store, { analyze: () => ({}) });
    const [ended] = await events.until('the job to be dropped', finished());
    expect(ended).toMatchObject({ outcome: 'session-gone' });
    // The leftover job state went with it.
    expect(await keysUnder(redis.client, `${store.keyPrefix}{${session.id}}`)).toEqual([]);
  });
});
