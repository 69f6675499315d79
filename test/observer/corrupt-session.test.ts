import { describe, expect, it } from 'vitest';
import { testStore } from '../harness/store.js';
import { finished, queueState, startWorker, useRedis } from './support.js';

const redis = useRedis();
const SECRET = 'sk-observer-corrupt-marker';

type Corrupt = (keys: { meta: string; turns: string; jobs: string; lease: string }) => Promise<unknown>;

const CORRUPTIONS: Array<[string, Corrupt]> = [
  ['a stored turn that is not JSON', ({ turns }) => redis.client.lSet(turns, 0, `{"content":"${SECRET}`)],
  ['a non-numeric turn count', ({ meta }) => redis.client.hSet(meta, 'turnCount', SECRET)],
  ['the turns key of another type', async ({ turns }) => {
    await redis.client.del(turns);
    await redis.client.set(turns, SECRET);
  }],
  ['the jobs key of another type', async ({ jobs }) => {
    await redis.client.del(jobs);
    await redis.client.set(jobs, SECRET);
  }],
  ['the lease key of another type', ({ lease }) => redis.client.hSet(lease, 'x', SECRET)],
];

describe('a job for a corrupt session', () => {
  it.each(CORRUPTIONS)('%s: ends failed, is acknowledged, and is not run again', async (_what, corrupt) => {
    const store = testStore(redis.client);
    const session = await store.create();
    await session.appendTurn({ role: 'user', content: 'hello' });
    await session.requestObservation();
    await corrupt(session.keys);

    let analyzed = 0;
    const { events } = await startWorker(store, {
      maxAttempts: 3,
      analyze: () => {
        analyzed += 1;
        return {};
      },
    });
    const [ended] = await events.until('the job to end', finished());
    expect(ended).toMatchObject({ outcome: 'failed', requeued: false });
    expect(JSON.stringify(ended)).toContain('corrupt');
    expect(JSON.stringify(events.events)).not.toContain(SECRET);
    expect(analyzed).toBe(0);
    // Acknowledged and gone from the queue: no loop.
    expect(await queueState(redis.client, store.keyPrefix)).toEqual({ length: 0, pending: 0 });
    expect(events.events.filter(finished())).toHaveLength(1);
  });
});
