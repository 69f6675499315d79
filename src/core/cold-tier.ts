import type { Turn, TurnRole } from './types.js';

/**
 * What the core needs of a cold tier (the durable archive of every
 * conversation), as types only: `agent-session/archive` implements it on
 * PostgreSQL, and the core never imports it, so apps without the archive
 * never load a database driver.
 */

/** A session's metadata as archived. Times are ms on the Redis clock. */
export interface ArchivedMeta {
  userId?: string;
  agentId?: string;
  model?: string;
  currentTask?: string;
  fields: Record<string, string>;
  createdAt: number;
  lastActive: number;
  turnCount: number;
  idleTimeoutMs: number;
}

export type ArchivedTurn = { kind: 'turn'; seq: number; ts: number; role: TurnRole; content: string; toolCallId?: string };
export type ArchivedToolCall = {
  kind: 'tool';
  callId: string;
  name: string;
  status: 'pending' | 'completed' | 'failed';
  args: unknown;
  result?: unknown;
  error?: string;
  startedAt: number;
  finishedAt?: number;
};
export type ArchivedNotes = { kind: 'notes'; coversThroughSeq: number; writtenAt: number; notes: unknown };

/** One change drained from a session's backlog. */
export type ArchiveRecord = ArchivedTurn | ArchivedToolCall | ArchivedNotes;

/** Everything one drain of one session's backlog carries: its metadata now (null if the session's meta is gone) and its records, oldest first. */
export interface ArchiveBatch {
  sessionId: string;
  meta: ArchivedMeta | null;
  records: ArchiveRecord[];
}

/** What a restore puts back into Redis. */
export interface RestoreData {
  meta: ArchivedMeta;
  /** The newest `maxTurns` turns, oldest first. */
  turns: ArchivedTurn[];
  toolCalls: ArchivedToolCall[];
  /** The latest version of the notes, if any. */
  notes: ArchivedNotes | null;
  /** The highest archived seq (>= meta.turnCount): the next append gets lastSeq + 1. */
  lastSeq: number;
}

/** One of a user's conversations, as listed. */
export interface ConversationSummary {
  id: string;
  title?: string;
  turnCount: number;
  createdAt: number;
  lastActive: number;
}

/** A page of archived history, by seq (or by time), at most `limit` turns. */
export interface HistoryQuery {
  beforeSeq?: number;
  afterSeq?: number;
  fromTime?: number;
  toTime?: number;
  /** Default 50, at most 500. */
  limit?: number;
  /** Default 'oldest-first'. */
  order?: 'oldest-first' | 'newest-first';
}

export interface ConversationPage {
  conversations: ConversationSummary[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  next?: { lastActive: number; id: string };
}

/** The cold tier as the store and the archiver use it. */
export interface ColdTier {
  writeBatches(batches: ArchiveBatch[]): Promise<void>;
  /** The archived owner of a conversation: null when it is unknown or erased. */
  owner(sessionId: string): Promise<{ userId: string | null } | null>;
  loadForRestore(sessionId: string, maxTurns: number): Promise<RestoreData | null>;
  history(sessionId: string, query: HistoryQuery): Promise<ArchivedTurn[]>;
  listConversations(userId: string, page: { limit?: number; before?: { lastActive: number; id: string } }): Promise<ConversationPage>;
  erase(sessionId: string): Promise<void>;
}

/** An archived turn as the app sees turns. */
export function toTurn(record: ArchivedTurn): Turn {
  const turn: Turn = { seq: record.seq, ts: record.ts, role: record.role, content: record.content };
  if (record.toolCallId !== undefined) turn.toolCallId = record.toolCallId;
  return turn;
}
