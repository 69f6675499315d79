import { describe, expect, it } from 'vitest';
import { InvalidInputError, InvalidSessionIdError } from 'agent-session';
import type { ArchiveBatch, ToolRecord } from 'agent-session/archive';
import { archiveForThisFile, meta, rowCounts, T0, turnBatch, turns, uniqueId } from './support.js';

const { archive, sql, schema } = archiveForThisFile();

/** Every row of one conversation, with each row's version (xmin): an update, even to equal values, changes it. */
async function snapshotOf(id: string): Promise<unknown> {
  const read = async (table: string, key: string) =>
    (await sql.query(`SELECT xmin::text AS version, * FROM ${schema}.${table} WHERE ${key} = $1 ORDER BY 2, 3`, [id])).rows;
  return {
    conversations: await read('conversations', 'id'),
    turns: await read('turns', 'conversation_id'),
    toolCalls: await read('tool_calls', 'conversation_id'),
    notes: await read('notes_versions', 'conversation_id'),
  };
}

const pending = (callId: string): ToolRecord => ({ kind: 'tool', callId, name: 'lookup', status: 'pending', args: { q: 1 }, startedAt: T0 + 10 });
const completed = (callId: string): ToolRecord => ({ ...pending(callId), status: 'completed', result: { ok: true }, finishedAt: T0 + 20 });

describe('archiving batches', () => {
  it('stores turns, tool calls, notes versions and metadata', async () => {
    const id = uniqueId();
    await archive.writeBatches([
      {
        sessionId: id,
        meta: meta({ turnCount: 2, currentTask: 'order' }),
        records: [
          ...turns(1, 2),
          completed('call-1'),
          { kind: 'notes', coversThroughSeq: 2, writtenAt: T0 + 30, notes: { summary: 'two turns' } },
        ],
      },
    ]);
    expect(await rowCounts(sql, schema, id)).toEqual({ conversations: 1, turns: 2, tool_calls: 1, notes_versions: 1 });
    const { rows } = await sql.query(`SELECT user_id, current_task, fields, turn_count FROM ${schema}.conversations WHERE id = $1`, [id]);
    expect(rows[0]).toEqual({ user_id: 'user-1', current_task: 'order', fields: { locale: 'en' }, turn_count: '2' });
  });

  it('re-writing the same batches changes nothing, not even a row version', async () => {
    const id = uniqueId();
    const batches: ArchiveBatch[] = [
      {
        sessionId: id,
        meta: meta({ turnCount: 3 }),
        records: [...turns(1, 3), completed('call-1'), pending('call-2'), { kind: 'notes', coversThroughSeq: 3, writtenAt: T0 + 5, notes: ['n'] }],
      },
    ];
    await archive.writeBatches(batches);
    const first = await snapshotOf(id);
    await archive.writeBatches(batches);
    await archive.writeBatches([...batches, ...batches]);
    expect(await snapshotOf(id)).toEqual(first);
  });

  it('a tool call moves from pending to finished, and a late pending never moves it back', async () => {
    const id = uniqueId();
    const write = (record: ToolRecord) => archive.writeBatches([{ sessionId: id, meta: meta(), records: [record] }]);
    await write(pending('call-1'));
    await write(completed('call-1'));
    await write(pending('call-1'));
    await write({ ...pending('call-2'), status: 'failed', error: 'timeout', finishedAt: T0 + 40 });
    await write(pending('call-2'));
    // In one call too: the finished state wins whatever the order.
    await archive.writeBatches([
      { sessionId: id, meta: null, records: [completed('call-3')] },
      { sessionId: id, meta: null, records: [pending('call-3')] },
    ]);
    const { rows } = await sql.query(`SELECT call_id, status, result, error FROM ${schema}.tool_calls WHERE conversation_id = $1 ORDER BY call_id`, [id]);
    expect(rows).toEqual([
      { call_id: 'call-1', status: 'completed', result: { ok: true }, error: null },
      { call_id: 'call-2', status: 'failed', result: null, error: 'timeout' },
      { call_id: 'call-3', status: 'completed', result: { ok: true }, error: null },
    ]);
  });

  it('metadata comes from the newest snapshot; counters only grow; the bound user and the title are never overwritten', async () => {
    const id = uniqueId();
    await archive.writeBatches([{ sessionId: id, meta: meta({ lastActive: T0 + 5_000, turnCount: 5, model: 'new-model' }), records: [] }]);
    expect(await archive.setTitle(id, 'Order status')).toBe(true);
    // A stale snapshot arriving late (an older drain retried).
    await archive.writeBatches([{ sessionId: id, meta: meta({ lastActive: T0 + 1_000, turnCount: 1, model: 'old-model' }), records: [] }]);
    // A snapshot that names another user: a binding never changes.
    await archive.writeBatches([{ sessionId: id, meta: meta({ userId: 'intruder', lastActive: T0 + 6_000, turnCount: 6 }), records: [] }]);
    const { rows } = await sql.query(`SELECT user_id, model, title, last_active, turn_count FROM ${schema}.conversations WHERE id = $1`, [id]);
    expect(rows[0]).toEqual({ user_id: 'user-1', model: 'gpt-x', title: 'Order status', last_active: String(T0 + 6_000), turn_count: '6' });

    const anonymous = uniqueId();
    await archive.writeBatches([{ sessionId: anonymous, meta: meta({ userId: undefined }), records: [] }]);
    await archive.writeBatches([{ sessionId: anonymous, meta: meta({ userId: 'user-2' }), records: [] }]);
    expect(await archive.owner(anonymous)).toEqual({ userId: 'user-2' });
  });

  it('a batch without meta adds to a conversation already archived, and is dropped for one never seen (its owner is unknown)', async () => {
    const known = uniqueId();
    await archive.writeBatches([turnBatch(known, 1, 2)]);
    const unknown = uniqueId();
    await archive.writeBatches([
      { sessionId: known, meta: null, records: turns(3, 4) },
      { sessionId: unknown, meta: null, records: turns(1, 4) },
    ]);
    expect(await rowCounts(sql, schema, known)).toMatchObject({ conversations: 1, turns: 4 });
    expect(await rowCounts(sql, schema, unknown)).toEqual({ conversations: 0, turns: 0, tool_calls: 0, notes_versions: 0 });
  });

  it('stores U+0000, which PostgreSQL text and jsonb cannot hold, as U+FFFD, and leaves an escaped "\\u0000" alone', async () => {
    const id = uniqueId();
    await archive.writeBatches([
      {
        sessionId: id,
        meta: meta({ fields: { 'k\u0000': 'v\u0000' } }),
        records: [
          { kind: 'turn', seq: 1, ts: T0, role: 'user', content: 'a\u0000b' },
          { ...completed('call-1'), args: { text: 'x\u0000y', literal: 'back\\u0000slash' } },
        ],
      },
    ]);
    const [turn] = await archive.history(id);
    expect(turn?.content).toBe('a\uFFFDb');
    const restored = await archive.loadForRestore(id, 10);
    expect(restored?.meta.fields).toEqual({ 'k\uFFFD': 'v\uFFFD' });
    expect(restored?.toolCalls[0]?.args).toEqual({ text: 'x\uFFFDy', literal: 'back\\u0000slash' });
  });

  it('all batches of a call in one transaction: a refused batch leaves none of the others', async () => {
    const good = uniqueId();
    const bad = uniqueId();
    await expect(
      archive.writeBatches([
        turnBatch(good, 1, 3),
        // Passes the shape check, but PostgreSQL refuses it (jsonb nests at most a few thousand levels).
        { sessionId: bad, meta: meta(), records: [{ kind: 'notes', coversThroughSeq: 1, writtenAt: T0, notes: deeplyNested(20_000) }] },
      ]),
    ).rejects.toMatchObject({ code: 'ARCHIVE_QUERY_FAILED' });
    expect(await rowCounts(sql, schema, good)).toEqual({ conversations: 0, turns: 0, tool_calls: 0, notes_versions: 0 });
  });

  it('refuses malformed batches before writing anything, naming the batch and field but not the content', async () => {
    const id = uniqueId();
    const secret = 'content that must not leak';
    const malformed: unknown[] = [
      [{ sessionId: 'bad id', meta: null, records: [] }],
      [{ sessionId: id, meta: { ...meta(), createdAt: -1 }, records: [] }],
      [{ sessionId: id, meta: meta(), records: [{ kind: 'turn', seq: 1.5, ts: T0, role: 'user', content: secret }] }],
      [{ sessionId: id, meta: meta(), records: [{ kind: 'turn', seq: 1, ts: T0, role: secret, content: 'x' }] }],
      [{ sessionId: id, meta: meta(), records: [{ kind: 'poem', text: secret }] }],
    ];
    for (const batches of malformed) {
      const error = await archive.writeBatches(batches as ArchiveBatch[]).catch((caught: unknown) => caught);
      expect(error).toSatisfy((value) => value instanceof InvalidInputError || value instanceof InvalidSessionIdError);
      expect((error as Error).message).not.toContain(secret);
    }
    expect(await rowCounts(sql, schema, id)).toEqual({ conversations: 0, turns: 0, tool_calls: 0, notes_versions: 0 });
  });

  it('archives 100 batches of 50 turns in one call (throughput logged, not asserted)', async () => {
    const batches = Array.from({ length: 100 }, () => turnBatch(uniqueId(), 1, 50));
    await archive.writeBatches(batches.slice(0, 5)); // warm the pool and the plans
    const started = performance.now();
    await archive.writeBatches(batches);
    const elapsedMs = performance.now() - started;
    const { rows } = await sql.query(`SELECT count(*)::int AS n FROM ${schema}.turns WHERE conversation_id = ANY($1)`, [batches.map((batch) => batch.sessionId)]);
    expect(rows[0]).toEqual({ n: 5_000 });
    console.info(`writeBatches: 100 batches x 50 turns in ${elapsedMs.toFixed(0)} ms = ${Math.round(5_000 / (elapsedMs / 1_000))} turns/s`);
  });
});

function deeplyNested(depth: number): unknown {
  let value: unknown = 0;
  for (let level = 0; level < depth; level++) value = [value];
  return value;
}
