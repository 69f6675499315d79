import type { PoolClient } from 'pg';
import type { ConversationCursor } from '../core/cold-tier.js';
import type { ResolvedHistoryQuery } from './inputs.js';
import type { ArchivedMeta, ConversationSummary, NotesRecord, RestoreData, ToolRecord, TurnRecord } from '../core/cold-tier.js';
import type { Tables } from './tables.js';
import { fromBigint, fromOptionalBigint } from './values.js';

/**
 * The archive's reads: what a restore needs, a conversation's owner, its
 * history by pages, and a user's conversations by pages. Each is one
 * statement on an index, except the restore, which reads its four parts in
 * one REPEATABLE READ transaction so they agree with each other.
 */

type Bigint = string | number;

interface ConversationRow {
  user_id: string | null;
  agent_id: string | null;
  model: string | null;
  current_task: string | null;
  fields: Record<string, string>;
  created_at: Bigint;
  last_active: Bigint;
  turn_count: Bigint;
  idle_timeout_ms: Bigint;
  max_seq: Bigint | null;
}

interface TurnRow {
  seq: Bigint;
  ts: Bigint;
  role: TurnRecord['role'];
  content: string;
  tool_call_id: string | null;
}

interface ToolRow {
  call_id: string;
  name: string;
  status: ToolRecord['status'];
  args: unknown;
  result: unknown;
  /** node-postgres parses JSON null and SQL NULL both to null; these tell them apart. */
  args_absent: boolean;
  result_absent: boolean;
  error: string | null;
  started_at: Bigint;
  finished_at: Bigint | null;
  cached: boolean;
}

interface NotesRow {
  covers_through_seq: Bigint;
  written_at: Bigint;
  notes: unknown;
}

const TURN_COLUMNS = 'seq, ts, role, content, tool_call_id';

function toTurn(row: TurnRow): TurnRecord {
  const turn: TurnRecord = { kind: 'turn', seq: fromBigint(row.seq), ts: fromBigint(row.ts), role: row.role, content: row.content };
  if (row.tool_call_id !== null) turn.toolCallId = row.tool_call_id;
  return turn;
}

function toMeta(row: ConversationRow): ArchivedMeta {
  const meta: ArchivedMeta = {
    fields: row.fields,
    createdAt: fromBigint(row.created_at),
    lastActive: fromBigint(row.last_active),
    turnCount: fromBigint(row.turn_count),
    idleTimeoutMs: fromBigint(row.idle_timeout_ms),
  };
  if (row.user_id !== null) meta.userId = row.user_id;
  if (row.agent_id !== null) meta.agentId = row.agent_id;
  if (row.model !== null) meta.model = row.model;
  if (row.current_task !== null) meta.currentTask = row.current_task;
  return meta;
}

/** SQL NULL in a jsonb column means the value was absent; JSON null reads back as null. */
function toTool(row: ToolRow): ToolRecord {
  const tool: ToolRecord = {
    kind: 'tool',
    callId: row.call_id,
    name: row.name,
    status: row.status,
    args: row.args_absent ? undefined : row.args,
    startedAt: fromBigint(row.started_at),
  };
  if (!row.result_absent) tool.result = row.result;
  if (row.error !== null) tool.error = row.error;
  const finishedAt = fromOptionalBigint(row.finished_at);
  if (finishedAt !== undefined) tool.finishedAt = finishedAt;
  if (row.cached) tool.cached = true;
  return tool;
}

function toNotes(row: NotesRow): NotesRecord {
  return { kind: 'notes', coversThroughSeq: fromBigint(row.covers_through_seq), writtenAt: fromBigint(row.written_at), notes: row.notes };
}

/** Call inside a REPEATABLE READ transaction: the four reads must see one state of the archive. */
export async function readForRestore(client: PoolClient, tables: Tables, sessionId: string, maxTurns: number): Promise<RestoreData | null> {
  const conversation = await client.query<ConversationRow>(
    `SELECT user_id, agent_id, model, current_task, fields, created_at, last_active, turn_count, idle_timeout_ms,
            (SELECT max(seq) FROM ${tables.turns} WHERE conversation_id = c.id) AS max_seq
       FROM ${tables.conversations} c WHERE id = $1`,
    [sessionId],
  );
  const row = conversation.rows[0];
  if (!row) return null;
  const turns = await client.query<TurnRow>(
    `SELECT ${TURN_COLUMNS} FROM ${tables.turns} WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2`,
    [sessionId, maxTurns],
  );
  const tools = await client.query<ToolRow>(
    `SELECT call_id, name, status, args, result, args IS NULL AS args_absent, result IS NULL AS result_absent, error, started_at, finished_at, cached
       FROM ${tables.toolCalls} WHERE conversation_id = $1 ORDER BY started_at, start_order`,
    [sessionId],
  );
  const notes = await client.query<NotesRow>(
    `SELECT covers_through_seq, written_at, notes FROM ${tables.notes}
      WHERE conversation_id = $1 ORDER BY covers_through_seq DESC, written_at DESC LIMIT 1`,
    [sessionId],
  );
  const meta = toMeta(row);
  const latestNotes = notes.rows[0];
  return {
    meta,
    turns: turns.rows.map(toTurn).reverse(),
    toolCalls: tools.rows.map(toTool),
    notes: latestNotes ? toNotes(latestNotes) : null,
    lastSeq: Math.max(meta.turnCount, fromOptionalBigint(row.max_seq) ?? 0),
  };
}

export async function readOwner(client: PoolClient, tables: Tables, sessionId: string): Promise<{ userId: string | null } | null> {
  const result = await client.query<{ user_id: string | null }>(`SELECT user_id FROM ${tables.conversations} WHERE id = $1`, [sessionId]);
  const row = result.rows[0];
  return row ? { userId: row.user_id } : null;
}

export async function readHistory(client: PoolClient, tables: Tables, sessionId: string, query: ResolvedHistoryQuery): Promise<TurnRecord[]> {
  const values: Array<string | number> = [sessionId];
  const conditions = ['conversation_id = $1'];
  const bound = (sql: string, value: number | undefined): void => {
    if (value === undefined) return;
    values.push(value);
    conditions.push(`${sql} $${values.length}`);
  };
  bound('seq <', query.beforeSeq);
  bound('seq >', query.afterSeq);
  bound('ts >=', query.fromTime);
  bound('ts <=', query.toTime);
  values.push(query.limit);
  const direction = query.order === 'newest-first' ? 'DESC' : 'ASC';
  const result = await client.query<TurnRow>(
    `SELECT ${TURN_COLUMNS} FROM ${tables.turns} WHERE ${conditions.join(' AND ')} ORDER BY seq ${direction} LIMIT $${values.length}`,
    values,
  );
  return result.rows.map(toTurn);
}

export async function readConversations(
  client: PoolClient,
  tables: Tables,
  userId: string,
  page: { limit: number; before?: ConversationCursor },
): Promise<{ conversations: ConversationSummary[]; next?: ConversationCursor }> {
  const values: Array<string | number> = [userId, page.limit + 1];
  let after = '';
  if (page.before) {
    values.push(page.before.lastActive, page.before.id);
    // One row comparison, which the (user_id, last_active DESC, id DESC) index answers as a range.
    after = 'AND (last_active, id) < ($3, $4)';
  }
  // One row more than asked: whether it exists says whether there is a next page.
  const result = await client.query<{ id: string; title: string | null; turn_count: Bigint; created_at: Bigint; last_active: Bigint }>(
    `SELECT id, title, turn_count, created_at, last_active FROM ${tables.conversations}
      WHERE user_id = $1 ${after}
      ORDER BY last_active DESC, id DESC LIMIT $2`,
    values,
  );
  const conversations = result.rows.slice(0, page.limit).map((row) => {
    const summary: ConversationSummary = {
      id: row.id,
      turnCount: fromBigint(row.turn_count),
      createdAt: fromBigint(row.created_at),
      lastActive: fromBigint(row.last_active),
    };
    if (row.title !== null) summary.title = row.title;
    return summary;
  });
  const last = conversations[conversations.length - 1];
  return result.rows.length > page.limit && last ? { conversations, next: { lastActive: last.lastActive, id: last.id } } : { conversations };
}
