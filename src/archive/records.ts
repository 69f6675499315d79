/**
 * What crosses from Redis to PostgreSQL and back: the contract between the
 * Redis side of the cold tier (backlog, archiver, restore) and the
 * PostgreSQL layer. Plain data only, so either side can be tested alone.
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
