import { describe, expect, it } from 'vitest';
import { SessionNotFoundError } from 'agent-session';
import { observerQueueKey } from '../../src/core/keys.js';
import { keySlot, keysUnder, testStore } from '../harness/store.js';
import { finished, queueState, startGatedWorker, useRedis } from './support.js';

const redis = useRedis();

describe('requesting an observation', () => {
  it('returns once the job is queued, never waiting for analyze', async () => {
    const store = testStore(redis.client);
    const session = await store.create();
    await session.appendTurn({ role: 'user', content: 'Where is my order?' });
    const { analyzing, release, events } = await startGatedWorker(store, ({ turns }) => ({ seen: turns.map((turn) => turn.seq) }));

    const first = await session.requestObservation();
    expect(first).toMatchObject({ outcome: 'queued', kind: 'default' });
    await analyzing;

    // analyze is blocked on the gate: requests still return at once, and nothing is written yet.
    await session.appendTurn({ role: 'assistant', content: 'Let me check.' });
    expect(await session.requestObservation()).toEqual({ outcome: 'coalesced', kind: 'default', into: 'running' });
    expect(await session.notes()).toEqual({ ready: false });

    release();
    // The first run covers turn 1; the request made during it gets one more run, covering turn 2.
    const [firstRun, rerun] = await events.until('both runs to finish', finished('written'), 2);
    expect(firstRun).toMatchObject({ coversThroughSeq: 1, requeued: true });
    expect(rerun).toMatchObject({ coversThroughSeq: 2, requeued: false });
    expect(await session.notes()).toMatchObject({ ready: true, coversThroughSeq: 2, lagTurns: 0, notes: { seen: [2] } });
    expect(await queueState(redis.client, store.keyPrefix)).toEqual({ length: 0, pending: 0 });
  });

  it('keeps the coalescing state in the session slot and the job in the queue', async () => {
    const store = testStore(redis.client);
    const session = await store.create();
    const result = await session.requestObservation({ kind: 'summary' });
    expect(result.outcome).toBe('queued');

    const queue = observerQueueKey(store.keyPrefix, 'summary');
    const jobId = result.outcome === 'queued' ? result.jobId : '';
    expect(await redis.client.xRange(queue, '-', '+')).toEqual([{ id: jobId, message: { session: session.id } }]);

    expect(keySlot(session.keys.jobs)).toBe(keySlot(session.keys.meta));
    expect(await redis.client.hGet(session.keys.jobs, 'summary')).toMatch(/^queued:\d+$/);
    expect(await redis.client.pTTL(session.keys.jobs)).toBeGreaterThan(0);
    // Kinds are independent queues.
    expect((await session.requestObservation()).outcome).toBe('queued');
    expect((await session.requestObservation({ kind: 'summary' })).outcome).toBe('coalesced');

    await session.delete();
    expect(await keysUnder(redis.client, `${store.keyPrefix}{${session.id}}`)).toEqual([]);
  });

  it('stops coalescing into a job state whose job or run died, once its deadline passed', async () => {
    const store = testStore(redis.client);
    const session = await store.create();
    // The requester died between marking the session "queued" and adding the job; the deadline has passed.
    await redis.client.hSet(session.keys.jobs, 'default', 'queued:1');
    expect((await session.requestObservation()).outcome).toBe('queued');
    // A worker died mid-run: its "running" state lives only as long as its lease would have.
    await redis.client.hSet(session.keys.jobs, 'default', 'running:1');
    expect((await session.requestObservation()).outcome).toBe('queued');
    // Before the deadline, the same states do coalesce.
    await redis.client.hSet(session.keys.jobs, 'default', `running:${Date.now() + 60_000}`);
    expect(await session.requestObservation()).toEqual({ outcome: 'coalesced', kind: 'default', into: 'running' });
    expect(await redis.client.hGet(session.keys.jobs, 'default')).toMatch(/^rerun:/);
  });

  it('refuses a missing session and creates nothing', async () => {
    const store = testStore(redis.client);
    await expect(store.session('never-created', { user: null }).requestObservation()).rejects.toThrow(SessionNotFoundError);
    expect(await keysUnder(redis.client, store.keyPrefix)).toEqual([]);
  });

  it('undoes the coalescing mark when the job cannot be queued', async () => {
    const store = testStore(redis.client);
    const session = await store.create();
    // A queue key of the wrong type makes the enqueue fail after the session was marked "queued".
    const queue = observerQueueKey(store.keyPrefix, 'default');
    await redis.client.set(queue, 'not a stream');
    await expect(session.requestObservation()).rejects.toMatchObject({ name: 'CorruptStateError', key: queue });
    expect(await redis.client.hGet(session.keys.jobs, 'default')).toBeNull();

    await redis.client.del(observerQueueKey(store.keyPrefix, 'default'));
    expect((await session.requestObservation()).outcome).toBe('queued');
  });
});
