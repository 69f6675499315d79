import type { Turn } from './types.js';

/**
 * The cold tier (the durable archive of every conversation) as the core sees
 * it: what crosses from Redis to PostgreSQL and back, the queries, and the
 * interface `agent-session/archive` implements. Plain data and types only,
 * so either side can be tested alone.
 *
 * Every time is milliseconds since the epoch as Redis's clock gave it (the
 * archive stores them as `bigint` and hands them back as numbers); every
 * sequence number is the one Redis assigned (1, 2, ... per conversation).
 */

/** A conversation's metadata as it stood in Redis when its backlog was drained. */
export interface ArchivedMeta {
  /** The user the conversation is bound to; absent while unbound (anonymous). */
  userId?: string;
  agentId?: string;
  model?: string;
  currentTask?: string;
  /** App-defined string fields (the `f:<name>` fields of the meta hash, without the prefix). */
  fields: Record<string, string>;
  createdAt: number;
  lastActive: number;
  /** Seq of the newest turn appended (not only those still in the window). */
  turnCount: number;
  /** The idle timeout the session was created with, so a restore gives it the same TTL. */
  idleTimeoutMs: number;
}

/** A turn, as appended: Redis assigned `seq` and `ts`. */
export type TurnRecord = {
  kind: 'turn';
  seq: number;
  ts: number;
  role: 'user' | 'assistant' | 'system' | 'tool';
  content: string;
  toolCallId?: string;
};

/**
 * A tool call in the state it had when it was drained. The same call can be
 * archived several times (started, then finished); a finished state is never
 * replaced by a pending one.
 */
export type ToolRecord = {
  kind: 'tool';
  callId: string;
  name: string;
  status: 'pending' | 'completed' | 'failed';
  args: unknown;
  /** Set when `status` is 'completed'. */
  result?: unknown;
  /** Set when `status` is 'failed'. */
  error?: string;
  startedAt: number;
  finishedAt?: number;
  /** The call was answered from the tool cache. */
  cached?: boolean;
};

/** One version of the observer's notes; every version is kept. */
export type NotesRecord = {
  kind: 'notes';
  /** The seq of the newest turn the notes were written from. */
  coversThroughSeq: number;
  writtenAt: number;
  notes: unknown;
};

/** One entry of a session's archive backlog. */
export type ArchiveRecord = TurnRecord | ToolRecord | NotesRecord;

/**
 * Everything one drain of one session's backlog carries: its metadata now
 * (null if the session's meta is gone) and its records, oldest first.
 */
export interface ArchiveBatch {
  sessionId: string;
  meta: ArchivedMeta | null;
  records: ArchiveRecord[];
}

/** What a restore puts back into Redis, read in one snapshot of the archive. */
export interface RestoreData {
  meta: ArchivedMeta;
  /** The newest `maxTurns` turns, oldest first. */
  turns: Extract<ArchiveRecord, { kind: 'turn' }>[];
  /** Every tool call of the conversation, pending and finished, in the order they started. */
  toolCalls: Extract<ArchiveRecord, { kind: 'tool' }>[];
  /** The latest notes version (highest coversThroughSeq, then latest writtenAt), or null. */
  notes: Extract<ArchiveRecord, { kind: 'notes' }> | null;
  /**
   * The highest seq the archive knows of, never below `meta.turnCount`: the
   * restored session's next append must get `lastSeq + 1`, never a reused seq.
   */
  lastSeq: number;
}

/** One line of a user's list of conversations. */
export interface ConversationSummary {
  id: string;
  /** Set by the app with `setTitle()`; absent until then. */
  title?: string;
  turnCount: number;
  createdAt: number;
  lastActive: number;
}

export type HistoryOrder = 'oldest-first' | 'newest-first';

/** Which turns of a conversation to read from the archive; all bounds are optional and combine. */
export interface HistoryQuery {
  /** Only turns with a seq below this one (exclusive): the page before one already shown. */
  beforeSeq?: number | undefined;
  /** Only turns with a seq above this one (exclusive): the page after one already shown. */
  afterSeq?: number | undefined;
  /** Only turns appended at or after this time (ms since epoch, inclusive). */
  fromTime?: number | undefined;
  /** Only turns appended at or before this time (ms since epoch, inclusive). */
  toTime?: number | undefined;
  /** Most turns returned. Default 50, at most 500. */
  limit?: number | undefined;
  /**
   * Which end of the matching turns the page is taken from, and the order it
   * is returned in. Default 'oldest-first'. Scrolling back from the newest:
   * `{ order: 'newest-first', beforeSeq }`, each page starting below the
   * lowest seq of the previous one.
   */
  order?: HistoryOrder | undefined;
}

/** Where a page of a user's conversations ends (the last one shown): the next page starts after it. */
export interface ConversationCursor {
  lastActive: number;
  id: string;
}

export interface ConversationPage {
  /** Most conversations returned. Default 20, at most 100. */
  limit?: number | undefined;
  /** The `next` of the previous page; absent for the first page. */
  before?: ConversationCursor | undefined;
}

/** A page of a user's conversations, newest first. */
export interface ConversationList {
  conversations: ConversationSummary[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  next?: ConversationCursor;
}

/**
 * The cold tier as the core, the middleware and the workers use it:
 * `agent-session/archive`'s PostgreSQL archive is one. Types only, so the
 * core never loads a database driver; apps that do not archive never need one.
 */
export interface ColdTier {
  writeBatches(batches: readonly ArchiveBatch[]): Promise<void>;
  /** The archived owner of a conversation: null when it is unknown or erased. */
  owner(sessionId: string): Promise<{ userId: string | null } | null>;
  loadForRestore(sessionId: string, maxTurns: number): Promise<RestoreData | null>;
  history(sessionId: string, query?: HistoryQuery): Promise<TurnRecord[]>;
  listConversations(userId: string, page?: ConversationPage): Promise<ConversationList>;
  erase(sessionId: string): Promise<void>;
  /** Retention: erases archived conversations idle for longer than `idleMs`; returns how many. */
  removeIdle(idleMs: number): Promise<number>;
}

/** An archived turn as the app sees turns. */
export function toTurn(record: TurnRecord): Turn {
  const turn: Turn = { seq: record.seq, ts: record.ts, role: record.role, content: record.content };
  if (record.toolCallId !== undefined) turn.toolCallId = record.toolCallId;
  return turn;
}
