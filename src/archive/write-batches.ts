import type { PoolClient } from 'pg';
import type { ArchiveBatch, ArchivedMeta, NotesRecord, ToolRecord, TurnRecord } from '../core/cold-tier.js';
import { conversationLockKey, type Tables } from './tables.js';
import { storableJson, storableOptionalText, storableText } from './values.js';

/**
 * Archiving: many drained batches written in one transaction, each table in
 * one multi-row statement (`unnest` of one array per column), so the cost
 * grows with the number of tables, not of rows.
 *
 * Every write is idempotent, because the archiver delivers at least once:
 * - turns and notes versions are keyed by what Redis assigned and inserted
 *   with ON CONFLICT DO NOTHING;
 * - a tool call is updated only from pending to a finished state, never
 *   back, so an old "pending" arriving late changes nothing;
 * - a conversation row takes the metadata of the newest snapshot (by
 *   lastActive), keeps the largest lastActive and turnCount, never changes a
 *   bound user, and never touches the app's title. A snapshot equal to the
 *   stored one writes nothing.
 *
 * Erased conversations are skipped: each conversation's advisory lock is
 * taken first (the same lock erase() and retention take), then the
 * tombstones are read, so an erasure either finished before (and the batch
 * is dropped) or waits until this transaction is done (and removes it).
 *
 * A batch whose meta is null (its session is gone from Redis) whose
 * conversation was never archived is dropped too: without metadata there is
 * no owner, and an ownerless row could be resumed by any user.
 */

interface Plan {
  /** Every conversation named, sorted: locks are always taken in this order, so writers never deadlock. */
  ids: string[];
  metas: Map<string, ArchivedMeta>;
  turns: Array<{ id: string; record: TurnRecord }>;
  tools: Map<string, { id: string; record: ToolRecord }>;
  notes: Array<{ id: string; record: NotesRecord }>;
}

/** Groups the batches by conversation, merging what one statement cannot take twice. */
export function planBatches(batches: readonly ArchiveBatch[]): Plan {
  const plan: Plan = { ids: [], metas: new Map(), turns: [], tools: new Map(), notes: [] };
  const ids = new Set<string>();
  for (const { sessionId: id, meta, records } of batches) {
    ids.add(id);
    if (meta) plan.metas.set(id, mergeMeta(plan.metas.get(id), meta));
    for (const record of records) {
      if (record.kind === 'turn') plan.turns.push({ id, record });
      else if (record.kind === 'notes') plan.notes.push({ id, record });
      else {
        // Ids cannot contain ':', so this key is unambiguous.
        const key = `${id}:${record.callId}`;
        const earlier = plan.tools.get(key);
        if (!earlier || earlier.record.status === 'pending') plan.tools.set(key, { id, record });
      }
    }
  }
  plan.ids = [...ids].sort();
  return plan;
}

/** Two snapshots of one conversation's meta in one call: the newer describes it, the counters only grow. */
function mergeMeta(earlier: ArchivedMeta | undefined, later: ArchivedMeta): ArchivedMeta {
  if (!earlier) return later;
  const newer = later.lastActive >= earlier.lastActive ? later : earlier;
  return {
    ...newer,
    userId: newer.userId ?? earlier.userId ?? later.userId,
    createdAt: Math.min(earlier.createdAt, later.createdAt),
    lastActive: Math.max(earlier.lastActive, later.lastActive),
    turnCount: Math.max(earlier.turnCount, later.turnCount),
  };
}

export async function writePlan(client: PoolClient, tables: Tables, plan: Plan): Promise<void> {
  const { conversations, turns, toolCalls, notes, erasures } = tables;

  await client.query(`SELECT pg_advisory_xact_lock(${conversationLockKey('id', '$2')}) FROM unnest($1::text[]) AS t(id)`, [
    plan.ids,
    tables.lockPrefix,
  ]);
  const status = await client.query<{ id: string; erased: boolean; archived: boolean }>(
    `SELECT t.id,
            EXISTS (SELECT 1 FROM ${erasures} e WHERE e.conversation_id = t.id) AS erased,
            EXISTS (SELECT 1 FROM ${conversations} c WHERE c.id = t.id) AS archived
       FROM unnest($1::text[]) AS t(id)`,
    [plan.ids],
  );
  const writable = new Set(status.rows.filter((row) => !row.erased && (row.archived || plan.metas.has(row.id))).map((row) => row.id));
  if (writable.size === 0) return;

  const metas = [...plan.metas].filter(([id]) => writable.has(id));
  if (metas.length > 0) {
    await client.query(
      `INSERT INTO ${conversations} AS c
              (id, user_id, agent_id, model, current_task, fields, created_at, last_active, turn_count, idle_timeout_ms)
       SELECT id, user_id, agent_id, model, current_task, fields::jsonb, created_at, last_active, turn_count, idle_timeout_ms
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[])
              AS u(id, user_id, agent_id, model, current_task, fields, created_at, last_active, turn_count, idle_timeout_ms)
       ON CONFLICT (id) DO UPDATE SET
         user_id         = COALESCE(c.user_id, excluded.user_id),
         agent_id        = CASE WHEN excluded.last_active >= c.last_active THEN excluded.agent_id ELSE c.agent_id END,
         model           = CASE WHEN excluded.last_active >= c.last_active THEN excluded.model ELSE c.model END,
         current_task    = CASE WHEN excluded.last_active >= c.last_active THEN excluded.current_task ELSE c.current_task END,
         fields          = CASE WHEN excluded.last_active >= c.last_active THEN excluded.fields ELSE c.fields END,
         idle_timeout_ms = CASE WHEN excluded.last_active >= c.last_active THEN excluded.idle_timeout_ms ELSE c.idle_timeout_ms END,
         created_at      = LEAST(c.created_at, excluded.created_at),
         last_active     = GREATEST(c.last_active, excluded.last_active),
         turn_count      = GREATEST(c.turn_count, excluded.turn_count)
       -- Only when something changes: a re-delivered snapshot writes no new row version.
       WHERE excluded.last_active > c.last_active
          OR excluded.turn_count > c.turn_count
          OR excluded.created_at < c.created_at
          OR (c.user_id IS NULL AND excluded.user_id IS NOT NULL)
          OR (excluded.last_active = c.last_active
              AND (c.agent_id, c.model, c.current_task, c.fields, c.idle_timeout_ms)
                  IS DISTINCT FROM (excluded.agent_id, excluded.model, excluded.current_task, excluded.fields, excluded.idle_timeout_ms))`,
      [
        metas.map(([id]) => id),
        metas.map(([, meta]) => storableOptionalText(meta.userId)),
        metas.map(([, meta]) => storableOptionalText(meta.agentId)),
        metas.map(([, meta]) => storableOptionalText(meta.model)),
        metas.map(([, meta]) => storableOptionalText(meta.currentTask)),
        metas.map(([, meta]) => storableJson(meta.fields) ?? '{}'),
        metas.map(([, meta]) => meta.createdAt),
        metas.map(([, meta]) => meta.lastActive),
        metas.map(([, meta]) => meta.turnCount),
        metas.map(([, meta]) => meta.idleTimeoutMs),
      ],
    );
  }

  const turnRows = plan.turns.filter(({ id }) => writable.has(id));
  if (turnRows.length > 0) {
    await client.query(
      `INSERT INTO ${turns} (conversation_id, seq, ts, role, content, tool_call_id)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[])
       ON CONFLICT (conversation_id, seq) DO NOTHING`,
      [
        turnRows.map(({ id }) => id),
        turnRows.map(({ record }) => record.seq),
        turnRows.map(({ record }) => record.ts),
        turnRows.map(({ record }) => record.role),
        turnRows.map(({ record }) => storableText(record.content)),
        turnRows.map(({ record }) => storableOptionalText(record.toolCallId)),
      ],
    );
  }

  const toolRows = [...plan.tools.values()].filter(({ id }) => writable.has(id));
  if (toolRows.length > 0) {
    await client.query(
      `INSERT INTO ${toolCalls} AS t
              (conversation_id, call_id, name, status, args, result, error, started_at, finished_at, cached)
       SELECT conversation_id, call_id, name, status, args::jsonb, result::jsonb, error, started_at, finished_at, cached
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::boolean[])
              WITH ORDINALITY AS u(conversation_id, call_id, name, status, args, result, error, started_at, finished_at, cached, position)
       -- In backlog order, so a new row's start_order (identity) follows the order the calls started in.
       ORDER BY position
       ON CONFLICT (conversation_id, call_id) DO UPDATE SET
         name = excluded.name, status = excluded.status, args = excluded.args, result = excluded.result,
         error = excluded.error, started_at = excluded.started_at, finished_at = excluded.finished_at, cached = excluded.cached
       -- A finished call is final; a pending one only moves to finished.
       WHERE t.status = 'pending' AND excluded.status <> 'pending'`,
      [
        toolRows.map(({ id }) => id),
        toolRows.map(({ record }) => storableText(record.callId)),
        toolRows.map(({ record }) => storableText(record.name)),
        toolRows.map(({ record }) => record.status),
        toolRows.map(({ record }) => storableJson(record.args)),
        toolRows.map(({ record }) => storableJson(record.result)),
        toolRows.map(({ record }) => storableOptionalText(record.error)),
        toolRows.map(({ record }) => record.startedAt),
        toolRows.map(({ record }) => record.finishedAt ?? null),
        toolRows.map(({ record }) => record.cached === true),
      ],
    );
  }

  const notesRows = plan.notes.filter(({ id }) => writable.has(id));
  if (notesRows.length > 0) {
    await client.query(
      `INSERT INTO ${notes} (conversation_id, covers_through_seq, written_at, notes)
       SELECT conversation_id, covers_through_seq, written_at, notes::jsonb
         FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) AS u(conversation_id, covers_through_seq, written_at, notes)
       ON CONFLICT (conversation_id, covers_through_seq, written_at) DO NOTHING`,
      [
        notesRows.map(({ id }) => id),
        notesRows.map(({ record }) => record.coversThroughSeq),
        notesRows.map(({ record }) => record.writtenAt),
        notesRows.map(({ record }) => storableJson(record.notes) ?? 'null'),
      ],
    );
  }
}
