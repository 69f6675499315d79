import type { SessionHandle } from '../../src/core/agent-session.js';
import { describe, expect, it } from 'vitest';
import { observerQueueKey } from '../../src/core/keys.js';
import { eventually } from '../harness/wait.js';
import { testStore } from '../harness/store.js';
import { deferred, finished, queueState, startGatedWorker, startWorker, useRedis } from './support.js';

const redis = useRedis();

/** Waits until the lease's TTL has gone back up `count` times: the heartbeat extended it. */
async function leaseExtensions(session: SessionHandle, count: number): Promise<void> {
  let seen = 0;
  let last = await redis.client.pTTL(session.keys.lease);
  await eventually(`${count} lease extension(s)`, async () => {
    const ttl = await redis.client.pTTL(session.keys.lease);
    if (ttl > last) seen += 1;
    last = ttl;
    return seen >= count;
  });
}

async function sessionWithTurns(store: ReturnType<typeof testStore>, count: number) {
  const session = await store.create();
  for (let i = 1; i <= count; i++) await session.appendTurn({ role: 'user', content: `turn ${i}` });
  return session;
}

describe('runs that fell behind', () => {
  it('a slow run that started first cannot overwrite the notes of a newer run', async () => {
    const store = testStore(redis.client);
    const session = await sessionWithTurns(store, 3);
    const slowGate = deferred();
    const slowAnalyzing = deferred();
    let calls = 0;
    const { events } = await startWorker(store, {
      // The heartbeat (a third of leaseMs) never fires during the test: the slow run cannot notice its loss early.
      leaseMs: 60_000,
      claimIdleMs: 60_000,
      analyze: async ({ turns }) => {
        const name = ++calls === 1 ? 'slow' : `run${calls}`;
        if (name === 'slow') {
          slowAnalyzing.resolve();
          await slowGate.promise; // ignores its abort signal, like a stuck LLM call
        }
        return { by: name, through: turns.at(-1)?.seq };
      },
    });

    await session.requestObservation();
    await slowAnalyzing.promise; // the slow run has read turns 1..3

    // The slow run stalls past its lease: the lease and the "running" state expire (done by hand here).
    await redis.client.del([session.keys.lease, session.keys.jobs]);
    for (let i = 4; i <= 6; i++) await session.appendTurn({ role: 'user', content: `turn ${i}` });
    expect((await session.requestObservation()).outcome).toBe('queued');
    await events.until('the newer run to write', finished('written'));
    expect(await session.notes()).toMatchObject({ coversThroughSeq: 6, notes: { by: 'run2', through: 6 } });

    slowGate.resolve();
    await events.until('the slow run to end', finished('lease-lost'));
    await eventually('the queue to drain', async () => (await queueState(redis.client, store.keyPrefix)).length === 0);
    const notes = await session.notes<{ by: string }>();
    expect(notes).toMatchObject({ ready: true, coversThroughSeq: 6 });
    expect(notes.ready && notes.notes.by).not.toBe('slow');
  });

  it('a run whose lease was taken over cannot write, and leaves the new holder alone', async () => {
    const store = testStore(redis.client);
    const session = await sessionWithTurns(store, 2);
    const { analyzing, release, events } = await startGatedWorker(store, () => ({ from: 'the run that lost its lease' }), {
      leaseMs: 60_000,
      claimIdleMs: 60_000,
    });

    await session.requestObservation();
    await analyzing;
    // Its lease expired and another worker took the session over (done by hand here).
    await redis.client.set(session.keys.lease, 'another-worker:token', { PX: 60_000 });
    release();

    const [ended] = await events.until('the run to end', finished());
    expect(ended).toMatchObject({ outcome: 'lease-lost', requeued: false });
    expect(await session.notes()).toEqual({ ready: false });
    expect(await redis.client.get(session.keys.lease)).toBe('another-worker:token');
    // The new holder's run covers every earlier request: this job is done with.
    expect(await queueState(redis.client, store.keyPrefix)).toEqual({ length: 0, pending: 0 });
  });

  it('a run finds out from its heartbeat that it lost the lease, and its analysis is aborted', async () => {
    const store = testStore(redis.client);
    const session = await sessionWithTurns(store, 1);
    const analyzing = deferred();
    const aborted = deferred<unknown>();
    const { events } = await startWorker(store, {
      leaseMs: 1_500,
      claimIdleMs: 60_000,
      analyze: ({ signal }) => {
        analyzing.resolve();
        return new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted.resolve(signal.reason);
            resolve({ written: 'after the abort' });
          });
        });
      },
    });

    await session.requestObservation();
    await analyzing.promise;
    // While it runs, the heartbeat keeps extending the lease.
    await leaseExtensions(session, 1);

    await redis.client.set(session.keys.lease, 'another-worker:token', { PX: 60_000 });
    expect(await aborted.promise).toBe('lease-lost');
    await events.until('the run to end', finished('lease-lost'));
    expect(await session.notes()).toEqual({ ready: false });
  });

  it('a heartbeat keeps a long run alive and it still writes', async () => {
    const store = testStore(redis.client);
    const session = await sessionWithTurns(store, 1);
    const { analyzing, release, events } = await startGatedWorker(store, () => ({ done: true }), { leaseMs: 1_500, claimIdleMs: 1_500 });
    await session.requestObservation();
    await analyzing;
    // Outlive the lease: a heartbeat every third of it keeps it (and the job) fresh.
    await leaseExtensions(session, 4);
    // The job stayed with its worker, delivered once, its idle time kept below
    // claimIdleMs by the heartbeat, so no other worker could claim it.
    const queue = observerQueueKey(store.keyPrefix, 'default');
    const [pending] = await redis.client.xPendingRange(queue, 'default', '-', '+', 10);
    expect(pending!.deliveriesCounter).toBe(1);
    expect(pending!.millisecondsSinceLastDelivery).toBeLessThan(1_500);
    release();
    const [ended] = await events.until('the run to end', finished());
    expect(ended).toMatchObject({ outcome: 'written', coversThroughSeq: 1 });
    expect(events.events.filter((event) => event.type === 'run-started')).toHaveLength(1);
  });
});
