import { describe, expect, it } from 'vitest';
import { InvalidInputError } from 'agent-session';
import type { ArchiveBatch } from 'agent-session/archive';
import type { PoolClient } from 'pg';
import { conversationLockKey, tablesIn } from '../../src/archive/tables.js';
import { eventually } from '../harness/wait.js';
import { archiveForThisFile, meta, rowCounts, T0, turnBatch, turns, uniqueId } from './support.js';

const { archive, sql, schema } = archiveForThisFile();
const NOTHING = { conversations: 0, turns: 0, tool_calls: 0, notes_versions: 0 };

function fullBatch(id: string): ArchiveBatch {
  return {
    sessionId: id,
    meta: meta({ turnCount: 3 }),
    records: [
      ...turns(1, 3),
      { kind: 'tool', callId: 'call-1', name: 'lookup', status: 'completed', args: {}, result: 1, startedAt: T0, finishedAt: T0 + 1 },
      { kind: 'notes', coversThroughSeq: 3, writtenAt: T0 + 2, notes: 'n' },
    ],
  };
}

async function tombstoned(id: string): Promise<boolean> {
  const { rowCount } = await sql.query(`SELECT 1 FROM ${schema}.erasures WHERE conversation_id = $1`, [id]);
  return rowCount === 1;
}

describe('erasure', () => {
  it('removes every row of the conversation and leaves a tombstone', async () => {
    const id = uniqueId();
    const other = uniqueId();
    await archive.writeBatches([fullBatch(id), fullBatch(other)]);
    expect(await rowCounts(sql, schema, id)).toEqual({ conversations: 1, turns: 3, tool_calls: 1, notes_versions: 1 });

    await archive.erase(id);
    expect(await rowCounts(sql, schema, id)).toEqual(NOTHING);
    expect(await tombstoned(id)).toBe(true);
    expect(await rowCounts(sql, schema, other)).toEqual({ conversations: 1, turns: 3, tool_calls: 1, notes_versions: 1 });
    expect(await archive.history(id)).toEqual([]);
  });

  it('a batch drained before the erasure and written after it does not bring the conversation back', async () => {
    const id = uniqueId();
    const inFlight = fullBatch(id);
    await archive.writeBatches([turnBatch(id, 1, 1)]);
    await archive.erase(id);
    const alive = uniqueId();
    await archive.writeBatches([inFlight, turnBatch(alive, 1, 2)]);
    expect(await rowCounts(sql, schema, id)).toEqual(NOTHING);
    expect(await archive.loadForRestore(id, 50)).toBeNull();
    // The other conversation in the same call is archived as usual.
    expect(await rowCounts(sql, schema, alive)).toMatchObject({ conversations: 1, turns: 2 });
  });

  it('erasing a conversation that was never archived still stops its batches, and erasing twice is harmless', async () => {
    const id = uniqueId();
    await archive.erase(id);
    await archive.erase(id);
    await archive.writeBatches([fullBatch(id)]);
    expect(await rowCounts(sql, schema, id)).toEqual(NOTHING);
  });

  it('an erasure waits for a batch of the same conversation being written, then removes what it wrote', async () => {
    const id = uniqueId();
    // Stand in for a writeBatches transaction that holds the conversation's lock and is creating it.
    await withConversationLock(id, async (holder) => {
      const erasing = archive.erase(id);
      await blockedBy(holder, erasing, 'the erasure to wait for the conversation lock');
      await holder.query(
        `INSERT INTO ${schema}.conversations (id, user_id, created_at, last_active, turn_count, idle_timeout_ms) VALUES ($1, 'user-1', 0, 0, 1, 1)`,
        [id],
      );
      await holder.query(`INSERT INTO ${schema}.turns (conversation_id, seq, ts, role, content) VALUES ($1, 1, 0, 'user', 'x')`, [id]);
      return { waiting: erasing };
    });
    expect(await rowCounts(sql, schema, id)).toEqual(NOTHING);
    expect(await tombstoned(id)).toBe(true);
  });

  it('a batch waits for an erasure of its conversation in progress, then sees the tombstone', async () => {
    const id = uniqueId();
    // Stand in for an erase() transaction that holds the conversation's lock.
    await withConversationLock(id, async (holder) => {
      const writing = archive.writeBatches([fullBatch(id)]);
      await blockedBy(holder, writing, 'the batch to wait for the conversation lock');
      await holder.query(`INSERT INTO ${schema}.erasures (conversation_id, erased_at) VALUES ($1, 0)`, [id]);
      return { waiting: writing };
    });
    expect(await rowCounts(sql, schema, id)).toEqual(NOTHING);
  });
});

/**
 * Runs `during` in a transaction of the test's own that holds conversation
 * `id`'s advisory lock, commits, and then awaits the archive call `during`
 * started (which had to wait for that commit).
 */
async function withConversationLock(id: string, during: (holder: PoolClient) => Promise<{ waiting: Promise<unknown> }>): Promise<void> {
  const holder = await sql.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(`SELECT pg_advisory_xact_lock(${conversationLockKey('$1::text', '$2::text')})`, [id, tablesIn(schema).lockPrefix]);
    const { waiting } = await during(holder);
    await holder.query('COMMIT');
    await waiting;
  } finally {
    holder.release();
  }
}

/** Waits until `call` is blocked by `holder`'s transaction (it reached the lock); fails if it settles first. */
async function blockedBy(holder: PoolClient, call: Promise<unknown>, what: string): Promise<void> {
  let settled = false;
  call.then(
    () => (settled = true),
    () => (settled = true),
  );
  const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
  await eventually(what, async () => {
    if (settled) throw new Error(`${what}: the call finished without waiting`);
    return (await sql.query('SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [holderPid])).rowCount === 1;
  });
}

describe('retention', () => {
  it('removes conversations idle longer than idleMs, measured from a given now, with tombstones, and returns how many', async () => {
    const now = T0 + 10 * 86_400_000;
    const idle = [uniqueId(), uniqueId()];
    const recent = uniqueId();
    await archive.writeBatches([
      ...idle.map((id) => ({ ...fullBatch(id), meta: meta({ lastActive: now - 8 * 86_400_000 }) })),
      { ...fullBatch(recent), meta: meta({ lastActive: now - 86_400_000 }) },
    ]);
    // Leftovers of the other tests are older still; count only what this test added.
    const before = await sql.query(`SELECT count(*)::int AS n FROM ${schema}.conversations WHERE last_active < $1`, [now - 7 * 86_400_000]);
    const removed = await archive.removeIdle(7 * 86_400_000, { now });
    expect(removed).toBe(before.rows[0].n);
    for (const id of idle) {
      expect(await rowCounts(sql, schema, id)).toEqual(NOTHING);
      expect(await tombstoned(id)).toBe(true);
    }
    expect(await rowCounts(sql, schema, recent)).toMatchObject({ conversations: 1, turns: 3 });
    // A late batch of a removed conversation stays out.
    await archive.writeBatches([fullBatch(idle[0] ?? '')]);
    expect(await rowCounts(sql, schema, idle[0] ?? '')).toEqual(NOTHING);
  });

  it("uses the database's clock without a now", async () => {
    const ancient = uniqueId();
    const current = uniqueId();
    await archive.writeBatches([
      { sessionId: ancient, meta: meta({ createdAt: 1_000, lastActive: 2_000 }), records: [] },
      { sessionId: current, meta: meta({ lastActive: Date.now() }), records: [] },
    ]);
    expect(await archive.removeIdle(86_400_000)).toBeGreaterThanOrEqual(1);
    expect(await archive.owner(ancient)).toBeNull();
    expect(await archive.owner(current)).toEqual({ userId: 'user-1' });
  });

  it('works through more idle conversations than one step removes', async () => {
    const far = T0 - 100 * 86_400_000;
    const ids = Array.from({ length: 1_203 }, () => uniqueId());
    await archive.writeBatches(ids.map((sessionId) => ({ sessionId, meta: meta({ createdAt: far, lastActive: far }), records: turns(1, 1) })));
    expect(await archive.removeIdle(1_000, { now: far + 1_001 })).toBe(1_203);
    const { rows } = await sql.query(`SELECT count(*)::int AS n FROM ${schema}.conversations WHERE id = ANY($1)`, [ids]);
    expect(rows[0]).toEqual({ n: 0 });
  });

  it('checks its arguments', async () => {
    for (const idleMs of [0, -5, 1.5, Number.POSITIVE_INFINITY]) {
      await expect(archive.removeIdle(idleMs)).rejects.toBeInstanceOf(InvalidInputError);
    }
    await expect(archive.removeIdle(1, { now: -1 })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
