import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawClient, testStore, type TestClient } from '../harness/store.js';
import { queueState, spawnWorkerProcess, useRedis, type WorkerProcess } from './support.js';

const redis = useRedis();
let blocking: TestClient;
const processes: WorkerProcess[] = [];

beforeAll(async () => {
  blocking = await rawClient();
});
afterAll(async () => {
  await Promise.all(processes.map((worker) => worker.stop()));
  await blocking.close();
});

/** Waits (BLPOP, no polling) for the next entry of a list the worker processes write to. */
async function next(key: string, what: string): Promise<string> {
  const popped = await blocking.blPop(key, 20);
  if (!popped) throw new Error(`timed out waiting for ${what}`);
  return popped.element;
}

describe('a worker process killed in the middle of a run', () => {
  it('has its job reclaimed and completed by another worker, with notes written once', async () => {
    const store = testStore(redis.client);
    const prefix = store.keyPrefix;
    const session = await store.create();
    await session.appendTurn({ role: 'user', content: 'I was charged twice.' });
    await session.appendTurn({ role: 'assistant', content: 'Let me look into that.' });

    const settings = { prefix, mode: 'gate', leaseMs: 2_000, claimIdleMs: 2_000 } as const;
    const workers = await Promise.all([spawnWorkerProcess(settings), spawnWorkerProcess(settings)]);
    processes.push(...workers);

    expect((await session.requestObservation()).outcome).toBe('queued');
    const [firstPid] = (await next(`${prefix}test:started`, 'a worker to start the run')).split(' ');
    const victim = workers.find((worker) => String(worker.pid) === firstPid)!;
    const survivor = workers.find((worker) => worker !== victim)!;

    // SIGKILL: no stop(), no release; the lease expires and the job stays pending with the dead consumer.
    victim.kill('SIGKILL');
    await victim.exited;

    const [secondPid, sessionId] = (await next(`${prefix}test:started`, 'the job to be reclaimed')).split(' ');
    expect(secondPid).toBe(String(survivor.pid));
    expect(sessionId).toBe(session.id);
    await redis.client.rPush(`${prefix}test:gate:${survivor.pid}`, 'go');

    expect(await next(`${prefix}test:written`, 'the notes to be written')).toBe(`${survivor.pid} ${session.id} 2`);
    const notes = await session.notes<{ seen: number; by: number }>();
    expect(notes).toMatchObject({ ready: true, coversThroughSeq: 2, notes: { seen: 2, by: survivor.pid } });

    // Drained: no job and no job state left, so no further run can happen...
    expect(await queueState(redis.client, prefix)).toEqual({ length: 0, pending: 0 });
    expect(await redis.client.hGet(session.keys.jobs, 'default')).toBeNull();
    // ...and exactly one run completed: the killed one started but never ended or wrote.
    const log = await redis.client.lRange(`${prefix}test:log:${session.id}`, 0, -1);
    expect(log.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual([
      `start ${victim.pid}`,
      `start ${survivor.pid}`,
      `end ${survivor.pid}`,
    ]);
    expect(await redis.client.lLen(`${prefix}test:written`)).toBe(0);
  });
});
