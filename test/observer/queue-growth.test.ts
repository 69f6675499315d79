import { describe, expect, it } from 'vitest';
import { observerQueueKey } from '../../src/core/keys.js';
import { redisOf, testStore } from '../harness/store.js';
import { eventually } from '../harness/wait.js';
import { finished, startWorker, useRedis } from './support.js';
import { createObserverWorker } from 'agent-session/observer';

/**
 * The no-worker growth check (issue 10): sessions keep asking for
 * observations while no observer worker runs. The queue must stay within
 * its bounds (length and age), and a worker that starts later works only on
 * the jobs of sessions that still exist.
 */

const redis = useRedis();

/** The Redis clock in ms (entry ids are in it). */
async function redisNowMs(): Promise<number> {
  const [seconds, micros] = (await redis.client.sendCommand(['TIME'])) as [string, string];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

async function queueLength(key: string): Promise<number> {
  return redis.client.xLen(key);
}

async function entryIds(key: string): Promise<string[]> {
  return ((await redis.client.xRange(key, '-', '+')) ?? []).map((entry) => entry.id);
}

describe('the observer queue with no worker running', () => {
  it('stays within maxLength however many sessions ask', async () => {
    const store = testStore(redis.client, { observerQueue: { maxLength: 40 } });
    const key = observerQueueKey(store.keyPrefix, 'default');
    const sessions = await Promise.all(Array.from({ length: 120 }, () => store.create()));
    for (const session of sessions) {
      await session.appendTurn({ role: 'user', content: 'hello' });
      await session.requestObservation();
    }
    // One session asking again after its "queued" mark expired adds one entry each time: still bounded.
    for (let i = 0; i < 30; i += 1) {
      await redis.client.del(sessions[0]!.keys.jobs);
      await sessions[0]!.requestObservation();
    }
    expect(await queueLength(key)).toBeLessThanOrEqual(40);
    // The newest requests are the ones kept.
    const last = sessions[0]!.id;
    const kept = (await redis.client.xRange(key, '-', '+')) ?? [];
    expect(kept.at(-1)?.message.session).toBe(last);
  });

  it('drops entries older than maxAgeMs when a job is added', async () => {
    const maxAgeMs = 60_000;
    const store = testStore(redis.client, { observerQueue: { maxAgeMs } });
    const key = observerQueueKey(store.keyPrefix, 'default');
    const now = await redisNowMs();
    // Entries left from two minutes and one hour ago (their sessions are long gone).
    await redis.client.xAdd(key, `${now - 3_600_000}-0`, { session: 'gone-1' });
    await redis.client.xAdd(key, `${now - 120_000}-0`, { session: 'gone-2' });
    await redis.client.xAdd(key, `${now - 1_000}-0`, { session: 'recent' });
    const session = await store.create();
    await session.requestObservation();
    const ids = await entryIds(key);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(`${now - 1_000}-0`);
    for (const id of ids) expect(Number(id.split('-')[0])).toBeGreaterThanOrEqual(now - maxAgeMs);
  });

  it('defaults maxAgeMs to the idle timeout', async () => {
    const store = testStore(redis.client, { idleTimeoutMs: 30_000 });
    const key = observerQueueKey(store.keyPrefix, 'default');
    const now = await redisNowMs();
    await redis.client.xAdd(key, `${now - 31_000}-0`, { session: 'expired-by-now' });
    await redis.client.xAdd(key, `${now - 29_000}-0`, { session: 'maybe-alive' });
    await (await store.create()).requestObservation();
    expect(await entryIds(key)).toHaveLength(2);
    expect((await entryIds(key))[0]).toBe(`${now - 29_000}-0`);
  });

  it('never lets a "queued" mark outlive the age bound (it would swallow requests for a job already trimmed)', async () => {
    const store = testStore(redis.client, { observerQueue: { maxAgeMs: 5_000 } });
    const session = await store.create();
    await session.requestObservation({ queuedTtlMs: 600_000 });
    const ttl = await redis.client.pTTL(session.keys.jobs);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5_000);
  });

  it('reports its backlog: length, pending and the age of the oldest entry', async () => {
    const store = testStore(redis.client);
    expect(await store.observerBacklog()).toEqual({ length: 0, pending: 0, oldestAgeMs: null });
    const key = observerQueueKey(store.keyPrefix, 'default');
    const now = await redisNowMs();
    await redis.client.xAdd(key, `${now - 10_000}-0`, { session: 'waiting' });
    const sessions = await Promise.all([store.create(), store.create()]);
    for (const session of sessions) await session.requestObservation();
    const backlog = await store.observerBacklog();
    expect(backlog.length).toBe(3);
    expect(backlog.pending).toBe(0);
    expect(backlog.oldestAgeMs).toBeGreaterThanOrEqual(10_000);
    expect(backlog.oldestAgeMs).toBeLessThan(600_000);
    expect((await store.observerBacklog({ kind: 'other' })).length).toBe(0);
  });
});

describe('a worker that starts after the backlog built up', () => {
  it('works only on the jobs of live sessions, and drops entries older than its maxAgeMs', async () => {
    // The app keeps jobs for a day; the worker is told an hour.
    const store = testStore(redis.client, { observerQueue: { maxLength: 1_000, maxAgeMs: 86_400_000 } });
    const key = observerQueueKey(store.keyPrefix, 'default');
    const sessions = await Promise.all(Array.from({ length: 20 }, () => store.create()));
    // A job older than the worker's bound, for a session that is still alive: it is not worked on.
    const now = await redisNowMs();
    const staleId = `${now - 7_200_000}-0`;
    await redis.client.xAdd(key, staleId, { session: sessions[19]!.id });
    for (const session of sessions) await session.requestObservation();
    const deleted = sessions.slice(0, 10);
    const live = sessions.slice(10);
    for (const session of deleted) await session.delete();
    expect(await queueLength(key)).toBe(21);

    const analyzed: string[] = [];
    const { worker, events } = await startWorker(store, {
      observerQueue: { maxAgeMs: 3_600_000 },
      analyze: ({ sessionId }) => {
        analyzed.push(sessionId);
        return {};
      },
    });
    await events.until('every live job to be done', finished('written'), live.length);
    await events.until('every dead job to be dropped', finished('session-gone'), deleted.length);
    expect(analyzed.sort()).toEqual(live.map((session) => session.id).sort());
    const jobIds = events.events.filter(finished()).map((event) => event.jobId);
    expect(jobIds).not.toContain(staleId);
    await eventually('the queue to be empty', async () => (await worker.backlog()).length === 0);
    expect(await worker.backlog()).toEqual({ length: 0, pending: 0, oldestAgeMs: null });
  });

  it('takes observerQueue like the store, checked by the same rule', () => {
    const base = { redis: redisOf(testStore(redis.client)), analyze: () => ({}) };
    expect(() => createObserverWorker({ ...base, observerQueue: { maxLength: 0 } })).toThrow('`observerQueue.maxLength` must be');
    expect(() => createObserverWorker({ ...base, observerQueue: { maxAgeMs: 1.5 } })).toThrow('`observerQueue.maxAgeMs` must be');
  });
});
