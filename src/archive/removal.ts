import type { PoolClient } from 'pg';
import { conversationLockKey, type Tables } from './tables.js';
import { SQL_NOW_MS } from './values.js';

/**
 * Removing conversations: erasure of one (the user's right to erasure) and
 * retention (every conversation idle for too long). Both delete the
 * conversation row, which cascades to its turns, tool calls and notes, and
 * leave a tombstone in `erasures`, so that a batch the archiver drained
 * before the removal cannot recreate the conversation when it arrives after.
 * Both take the conversation's advisory lock, like archiving does.
 */

/** Call inside a transaction. */
export async function eraseConversation(client: PoolClient, tables: Tables, sessionId: string): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(${conversationLockKey('$1::text', '$2::text')})`, [sessionId, tables.lockPrefix]);
  await client.query(
    `WITH gone AS (DELETE FROM ${tables.conversations} WHERE id = $1)
     INSERT INTO ${tables.erasures} (conversation_id, erased_at) VALUES ($1, ${SQL_NOW_MS})
     ON CONFLICT (conversation_id) DO NOTHING`,
    [sessionId],
  );
}

/** How many conversations one retention transaction removes at most, so that none runs long. */
export const RETENTION_CHUNK = 500;

/**
 * One retention step, inside a transaction: removes up to RETENTION_CHUNK
 * conversations whose last activity is before `cutoffMs` (or, with
 * `cutoffMs` null, before the database's clock minus `idleMs`), and returns
 * how many. Conversations being archived or erased right now are skipped
 * (their row or advisory lock is held) and left for the next run.
 */
export async function removeIdleChunk(client: PoolClient, tables: Tables, idleMs: number, nowMs: number | undefined): Promise<number> {
  const cutoff = nowMs === undefined ? `${SQL_NOW_MS} - $1::bigint` : `$4::bigint - $1::bigint`;
  const values: Array<string | number> = [idleMs, RETENTION_CHUNK, tables.lockPrefix];
  if (nowMs !== undefined) values.push(nowMs);
  const result = await client.query(
    `WITH candidates AS (
       SELECT id FROM ${tables.conversations}
        WHERE last_active < ${cutoff}
        ORDER BY last_active, id
        LIMIT $2
        FOR UPDATE SKIP LOCKED
     ), doomed AS MATERIALIZED (
       SELECT id FROM candidates WHERE pg_try_advisory_xact_lock(${conversationLockKey('id', '$3::text')})
     ), tombstones AS (
       INSERT INTO ${tables.erasures} (conversation_id, erased_at) SELECT id, ${SQL_NOW_MS} FROM doomed
       ON CONFLICT (conversation_id) DO NOTHING
     )
     DELETE FROM ${tables.conversations} c USING doomed d WHERE c.id = d.id`,
    values,
  );
  return result.rowCount ?? 0;
}
