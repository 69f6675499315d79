import { describe, expect, it } from 'vitest';
import { testStore } from '../harness/store.js';
import { deferred, finished, queueState, startGatedWorker, startWorker, useRedis } from './support.js';

const redis = useRedis();

describe('stopping a worker', () => {
  it('lets a run that finishes within the grace period complete', async () => {
    const store = testStore(redis.client);
    const session = await store.create();
    const { worker, analyzing, release, events } = await startGatedWorker(store, () => ({ done: true }), { stopGraceMs: 30_000 });
    await session.requestObservation();
    await analyzing;

    const stopped = worker.stop();
    release();
    await stopped;
    expect(events.events.filter(finished())).toMatchObject([{ outcome: 'written' }]);
    expect(worker.activeRuns).toBe(0);
    expect(await queueState(redis.client, store.keyPrefix)).toEqual({ length: 0, pending: 0 });
    await expect(worker.start()).rejects.toThrow(/stopped/);
  });

  it('aborts a run that outlasts the grace period and hands its job back to the queue', async () => {
    const store = testStore(redis.client);
    const session = await store.create();
    await session.appendTurn({ role: 'user', content: 'hello' });
    const analyzing = deferred();
    const aborted = deferred<unknown>();
    const { worker, events } = await startWorker(store, {
      stopGraceMs: 50,
      analyze: ({ signal }) => {
        analyzing.resolve();
        signal.addEventListener('abort', () => aborted.resolve(signal.reason));
        return new Promise(() => {}); // never finishes on its own
      },
    });
    await session.requestObservation();
    await analyzing.promise;

    await worker.stop();
    expect(await aborted.promise).toBe('stop');
    expect(events.events.filter(finished())).toMatchObject([{ outcome: 'released', requeued: true }]);
    // The job is back in the queue, undelivered; the session is marked queued and its lease is free.
    expect(await queueState(redis.client, store.keyPrefix)).toEqual({ length: 1, pending: 0 });
    expect(await redis.client.hGet(session.keys.jobs, 'default')).toMatch(/^queued:/);
    expect(await redis.client.exists(session.keys.lease)).toBe(0);

    // Another worker picks it up.
    const { events: next } = await startWorker(store, { analyze: ({ turns }) => ({ seen: turns.length }) });
    await next.until('the handed-back job to complete', finished('written'));
    expect(await session.notes()).toMatchObject({ ready: true, coversThroughSeq: 1, notes: { seen: 1 } });
  });

  it('does not wait out a retry backoff', async () => {
    const store = testStore(redis.client);
    const session = await store.create();
    const { worker, events } = await startWorker(store, {
      stopGraceMs: 60_000,
      retryBackoff: () => 60_000,
      analyze: () => {
        throw new Error('flaky');
      },
    });
    await session.requestObservation();
    await events.until('the first retry to be scheduled', (event) => event.type === 'retry');
    await worker.stop();
    expect(events.events.filter(finished())).toMatchObject([{ outcome: 'released', requeued: true, attempts: 1 }]);
    expect(await queueState(redis.client, store.keyPrefix)).toEqual({ length: 1, pending: 0 });
  });

  it('stops an idle worker at once and leaves the consumer group', async () => {
    const store = testStore(redis.client);
    const { worker } = await startWorker(store, { analyze: () => ({}) });
    await worker.stop();
    const consumers = (await redis.client.sendCommand(['XINFO', 'CONSUMERS', `${store.keyPrefix}observer:default:jobs`, 'default'])) as unknown[];
    expect(consumers).toEqual([]);
  });
});
