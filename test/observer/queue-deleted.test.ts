import { describe, expect, it } from 'vitest';
import { observerQueueKey } from '../../src/core/keys.js';
import { testStore } from '../harness/store.js';
import { finished, startWorker, useRedis } from './support.js';

const redis = useRedis();

describe('a queue deleted under a running worker (FLUSHDB, a manual DEL)', () => {
  it('is recreated by the worker, which then serves new requests without reporting an error', async () => {
    const store = testStore(redis.client);
    const session = await store.create();
    await session.appendTurn({ role: 'user', content: 'hello' });
    const { events } = await startWorker(store, { analyze: ({ turns }) => ({ seen: turns.length }) });
    await session.requestObservation();
    await events.until('the first job to complete', finished('written'));

    // The stream and its consumer group go; the worker's next poll finds no group (the scripts' NO_GROUP).
    await redis.client.del(observerQueueKey(store.keyPrefix, 'default'));
    await session.appendTurn({ role: 'user', content: 'still there?' });
    await session.requestObservation();
    await events.until('the job queued after the deletion to complete', finished('written'), 2);

    // The second run saw the turn added after the deletion (only the turns the first notes did not cover).
    expect(await session.notes()).toMatchObject({ ready: true, coversThroughSeq: 2, notes: { seen: 1 } });
    expect(events.events.filter((event) => event.type === 'error')).toEqual([]);
  });
});
