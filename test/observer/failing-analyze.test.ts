import { describe, expect, it } from 'vitest';
import { testStore } from '../harness/store.js';
import { deferred, finished, queueState, startWorker, useRedis } from './support.js';

const redis = useRedis();

describe('a failing analyze', () => {
  it('is retried with backoff, then its error is recorded, while other sessions are served', async () => {
    const store = testStore(redis.client);
    const failing = await store.create();
    const healthy = await store.create();
    await failing.appendTurn({ role: 'user', content: 'this one breaks the model' });
    await healthy.appendTurn({ role: 'user', content: 'this one is fine' });

    const attempts: number[] = [];
    const delays: number[] = [];
    const { events } = await startWorker(store, {
      maxAttempts: 3,
      retryBackoff: (failedAttempt) => {
        delays.push(failedAttempt);
        return 10 * failedAttempt;
      },
      analyze: ({ sessionId, attempt }) => {
        if (sessionId !== failing.id) return { ok: true };
        attempts.push(attempt);
        throw new Error(`model timed out (attempt ${attempt})`);
      },
    });
    await failing.requestObservation();
    await healthy.requestObservation();

    const [failed] = await events.until('the failing run to give up', finished('failed'));
    expect(failed).toMatchObject({ sessionId: failing.id, attempts: 3, error: 'model timed out (attempt 3)' });
    expect(attempts).toEqual([1, 2, 3]);
    expect(delays).toEqual([1, 2]);
    expect(events.events.filter((event) => event.type === 'retry').map((event) => event.type === 'retry' && event.delayMs)).toEqual([10, 20]);

    const notes = await failing.notes();
    expect(notes.ready).toBe(false);
    expect(notes.lastError?.message).toMatch(/analyze failed 3 time\(s\); last error: model timed out \(attempt 3\)/);
    expect(notes.lastError?.at).toEqual(expect.any(Number));

    await events.until('the healthy session to be served', (event) => finished('written')(event) && event.sessionId === healthy.id);
    expect(await healthy.notes()).toMatchObject({ ready: true, notes: { ok: true } });

    // The worker is still serving: a later request for the failing session runs again.
    await failing.requestObservation();
    await events.until('the failing session to be tried again', finished('failed'), 2);
    expect(await queueState(redis.client, store.keyPrefix)).toEqual({ length: 0, pending: 0 });
  });

  it('keeps earlier notes next to the error, and clears the error on the next success', async () => {
    const store = testStore(redis.client);
    const session = await store.create();
    await session.appendTurn({ role: 'user', content: 'hi' });
    await session.writeNotes({ summary: 'earlier' }, { coversThroughSeq: 1 });
    await session.appendTurn({ role: 'user', content: 'more' });

    let failNext = true;
    const { events } = await startWorker(store, {
      maxAttempts: 1,
      analyze: ({ turns }) => {
        if (failNext) throw new Error('rate limited');
        return { summary: `now through ${turns.at(-1)?.seq}` };
      },
    });
    await session.requestObservation();
    await events.until('the run to fail', finished('failed'));
    expect(await session.notes()).toMatchObject({
      ready: true,
      coversThroughSeq: 1,
      lagTurns: 1,
      notes: { summary: 'earlier' },
      lastError: { message: expect.stringContaining('rate limited') },
    });

    failNext = false;
    await session.requestObservation();
    await events.until('the run to succeed', finished('written'));
    const notes = await session.notes();
    expect(notes).toMatchObject({ ready: true, coversThroughSeq: 2, notes: { summary: 'now through 2' } });
    expect(notes.lastError).toBeUndefined();
  });

  it('treats notes the store refuses (not JSON, too large) as a failed attempt, not a crash', async () => {
    const store = testStore(redis.client);
    const session = await store.create();
    const second = deferred();
    const { events } = await startWorker(store, {
      maxAttempts: 2,
      notesBytes: 1_024,
      analyze: ({ attempt }) => {
        if (attempt === 2) second.resolve();
        return attempt === 1 ? { count: 1n } : { text: 'x'.repeat(2_000) };
      },
    });
    await session.requestObservation();
    await second.promise;
    const [failed] = await events.until('the run to give up', finished('failed'));
    expect(failed).toMatchObject({ attempts: 2 });
    expect(events.events.find((event) => event.type === 'retry')).toMatchObject({ error: expect.stringMatching(/BigInt/) });
    expect((await session.notes()).lastError?.message).toMatch(/1024 bytes/);
  });
});
