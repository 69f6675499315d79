/** Who wrote a turn. */
export type TurnRole = 'user' | 'assistant' | 'system' | 'tool';

export const TURN_ROLES: readonly TurnRole[] = ['user', 'assistant', 'system', 'tool'];

export interface TurnInput {
  role: TurnRole;
  content: string;
  /** Links a 'tool' turn (or an assistant turn that requested a tool) to its tool call. */
  toolCallId?: string | undefined;
}

export interface Turn {
  /** Assigned by Redis: 1 for the first turn of the session, +1 for each append, never reused. */
  seq: number;
  role: TurnRole;
  content: string;
  /** Redis server time (ms since epoch) when the turn was appended; never decreases along seq. */
  ts: number;
  toolCallId?: string;
}

/** Which turns to read. Ranges are inclusive and limited to the turns still in the window. */
export type TurnQuery =
  | { last: number }
  | { fromSeq: number; toSeq?: number | undefined }
  | { fromTime: number; toTime?: number | undefined };

export interface AgentMeta {
  id: string;
  /** The user this session is bound to; absent until one is. */
  userId?: string;
  agentId?: string;
  model?: string;
  currentTask?: string;
  createdAt: number;
  lastActive: number;
  /** Turns appended over the session's life (= seq of the newest turn), not just those in the window. */
  turnCount: number;
  /** App-defined string fields. */
  fields: Record<string, string>;
}

/** Fields accepted when creating a session. */
export interface AgentSessionInit {
  /** Supply your own id (validated), or leave it out for a random 192-bit one. */
  id?: string | undefined;
  userId?: string | undefined;
  agentId?: string | undefined;
  model?: string | undefined;
  currentTask?: string | undefined;
  fields?: Record<string, string> | undefined;
}

/**
 * A field-level metadata update: only the named fields are written.
 * `null` removes a field.
 */
export interface MetaPatch {
  agentId?: string | null | undefined;
  model?: string | null | undefined;
  currentTask?: string | null | undefined;
  fields?: Record<string, string | null> | undefined;
}

export type ToolCallStatus = 'pending' | 'completed' | 'failed';

export interface ToolCall {
  id: string;
  name: string;
  status: ToolCallStatus;
  args: unknown;
  /** Set when status is 'completed'. */
  result?: unknown;
  /** Set when status is 'failed'. */
  error?: string;
  startedAt: number;
  finishedAt?: number;
  /** True when the call was answered from the tool cache (`agent-session/tool-cache`) rather than by running the tool; absent otherwise. */
  cached?: boolean;
}

/** Options of `completeToolCall`. */
export interface CompleteToolCallOptions {
  /** The result came from the tool cache, not from running the tool: the call is marked `cached: true`. */
  cached?: boolean | undefined;
}

/**
 * Options of a write a client may retry (`appendTurn`, `startToolCall`).
 * With an `idempotencyKey`, a repeat of the write with the same key (after a
 * 503 or a timeout whose outcome is unknown) returns what the first one
 * returned and writes nothing, so a retry never duplicates a turn or a call.
 */
export interface IdempotentWriteOptions {
  /**
   * The client's id for this message or call (a UUID, say): 1-128 characters
   * of letters, digits and `-_.:`. Kept per session for `idempotencyTtlMs`
   * (at most `maxIdempotencyKeys` of them); the same key with a different
   * payload is refused with `IdempotencyConflictError`.
   */
  idempotencyKey?: string | undefined;
}

export interface ToolCallInput {
  /** The id your model gave the call (e.g. "call_abc123"); same charset rules as session ids. */
  id: string;
  name: string;
  args?: unknown;
}

/** The observer's last failure, recorded after its retries ran out. */
export interface ObserverError {
  message: string;
  at: number;
}

/** How stale the reader is willing to accept notes. Leave a bound out to ignore it. */
export interface NotesQuery {
  /** Notes older than this (by Redis server time) are stale. */
  maxAgeMs?: number | undefined;
  /** Notes that miss more than this many turns appended since are stale. */
  maxLagTurns?: number | undefined;
}

export type NotesResult<T = unknown> =
  | { ready: false; lastError?: ObserverError }
  | {
      ready: true;
      stale: boolean;
      /** How long ago the notes were written. */
      ageMs: number;
      /** Turns appended after the last turn the notes cover. */
      lagTurns: number;
      coversThroughSeq: number;
      notes: T;
      lastError?: ObserverError;
    };

/** Everything about a session, read in one round trip. */
export interface AgentSnapshot {
  meta: AgentMeta;
  turns: Turn[];
  toolCalls: ToolCall[];
  notes: NotesResult;
}
