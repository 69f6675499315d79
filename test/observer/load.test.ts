import { afterAll, describe, expect, it } from 'vitest';
import type { AgentSession } from 'agent-session';
import { eventually } from '../harness/wait.js';
import { testStore } from '../harness/store.js';
import { queueState, spawnWorkerProcess, useRedis, type WorkerProcess } from './support.js';

const redis = useRedis();
const processes: WorkerProcess[] = [];

afterAll(async () => {
  await Promise.all(processes.map((worker) => worker.stop()));
});

const SESSIONS = 50;
const TURNS = 1_000;
const WRITERS = 20;

/** True when the "start"/"end" lines of a session's analyses never interleave: no two runs at once. */
function runsNeverOverlap(log: string[]): boolean {
  for (let i = 0; i < log.length; i += 2) {
    const [start, startPid, startRun] = log[i]!.split(' ');
    const [end, endPid, endRun] = (log[i + 1] ?? '').split(' ');
    if (start !== 'start' || end !== 'end' || startPid !== endPid || startRun !== endRun) return false;
  }
  return true;
}

describe('observer under load', () => {
  it('2 worker processes, 50 sessions, 1000 turns with requests: every session ends covered, one run at a time', async () => {
    const store = testStore(redis.client);
    const prefix = store.keyPrefix;
    const settings = { prefix, mode: 'load', concurrency: 8, leaseMs: 15_000, claimIdleMs: 30_000 } as const;
    processes.push(...(await Promise.all([spawnWorkerProcess(settings), spawnWorkerProcess(settings)])));

    const sessions: AgentSession[] = [];
    for (let i = 0; i < SESSIONS; i++) sessions.push(await store.create());

    // 20 concurrent writers share the 1000 turns; each turn is followed by an observation request.
    let nextTurn = 0;
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        while (nextTurn < TURNS) {
          const turn = nextTurn++;
          const session = sessions[turn % SESSIONS]!;
          await session.appendTurn({ role: turn % 2 === 0 ? 'user' : 'assistant', content: `turn ${turn}` });
          await session.requestObservation();
        }
      }),
    );

    await eventually(
      'every session to have notes covering its last turn, and the queue to drain',
      async () => {
        const { length, pending } = await queueState(redis.client, prefix);
        if (length > 0 || pending > 0) return false;
        const notes = await Promise.all(sessions.map((session) => session.notes()));
        return notes.every((result) => result.ready && result.lagTurns === 0);
      },
      60_000,
    );

    expect(await redis.client.lRange(`${prefix}test:problems`, 0, -1)).toEqual([]);
    const pids = new Set<string>();
    for (const session of sessions) {
      const meta = await session.meta();
      expect(meta.turnCount).toBe(TURNS / SESSIONS);
      // Each run got exactly the turns after the previous notes, so the counts add up to every turn once.
      expect(await session.notes()).toMatchObject({ ready: true, coversThroughSeq: meta.turnCount, notes: { seen: meta.turnCount } });
      const log = await redis.client.lRange(`${prefix}test:log:${session.id}`, 0, -1);
      expect(runsNeverOverlap(log), `overlapping runs on ${session.id}: ${log.join(', ')}`).toBe(true);
      for (const line of log) pids.add(line.split(' ')[1]!);
    }
    // Both processes took part.
    expect(pids.size).toBe(2);
  });
});
