import { describe, expect, it } from 'vitest';
import { testStore } from '../harness/store.js';
import { finished, queueState, startGatedWorker, startWorker, useRedis } from './support.js';

const redis = useRedis();

const REQUESTS = 50;

describe('coalescing observation requests', () => {
  it('turns 50 requests made while a job is queued into one job and one run', async () => {
    const store = testStore(redis.client);
    const session = await store.create();
    await session.appendTurn({ role: 'user', content: 'hi' });

    const results = await Promise.all(Array.from({ length: REQUESTS }, () => session.requestObservation()));
    expect(results.filter((result) => result.outcome === 'queued')).toHaveLength(1);
    expect(results.filter((result) => result.outcome === 'coalesced' && result.into === 'queued')).toHaveLength(REQUESTS - 1);
    expect(await queueState(redis.client, store.keyPrefix)).toEqual({ length: 1, pending: 0 });

    let runs = 0;
    const { events } = await startWorker(store, { analyze: () => ({ run: ++runs }) });
    await events.until('the run to finish', finished('written'));
    // Nothing is left that could start another run: no job in the queue, no job state.
    expect(await queueState(redis.client, store.keyPrefix)).toEqual({ length: 0, pending: 0 });
    expect(await redis.client.hGet(session.keys.jobs, 'default')).toBeNull();
    expect(runs).toBe(1);
  });

  it('turns 50 requests made while a run is going into at most one more run', async () => {
    const store = testStore(redis.client);
    const session = await store.create();
    const observer = await startGatedWorker(store, ({ turns }) => ({ seen: turns.length }));

    await session.appendTurn({ role: 'user', content: 'first' });
    expect((await session.requestObservation()).outcome).toBe('queued');
    await observer.analyzing;

    const results = await Promise.all(
      Array.from({ length: REQUESTS }, async (_, i) => {
        await session.appendTurn({ role: 'user', content: `turn ${i}` });
        return session.requestObservation();
      }),
    );
    expect(results.every((result) => result.outcome === 'coalesced' && result.into === 'running')).toBe(true);
    expect(await queueState(redis.client, store.keyPrefix)).toEqual({ length: 1, pending: 1 });

    observer.release();
    const written = await observer.events.until('the run and its one rerun to finish', finished('written'), 2);
    expect(written.map((event) => event.type === 'run-finished' && event.requeued)).toEqual([true, false]);
    expect(await queueState(redis.client, store.keyPrefix)).toEqual({ length: 0, pending: 0 });
    expect(await redis.client.hGet(session.keys.jobs, 'default')).toBeNull();
    expect(observer.calls).toBe(2);
    expect(await session.notes()).toMatchObject({ ready: true, coversThroughSeq: REQUESTS + 1, lagTurns: 0, notes: { seen: REQUESTS } });
  });
});
