import type { Caller } from './caller.js';
import type { ConversationList, ConversationPage, HistoryQuery } from './cold-tier.js';
import type { ObserverBacklog } from './observer-backlog.js';
import type { SessionEvent, SessionEventGap, SubscribeOptions } from './session-events.js';
import type {
  AgentMeta,
  AgentSessionInit,
  AgentSnapshot,
  CompleteToolCallOptions,
  IdempotentWriteOptions,
  MetaPatch,
  NotesQuery,
  NotesResult,
  ToolCall,
  ToolCallInput,
  Turn,
  TurnInput,
  TurnQuery,
} from './types.js';

/**
 * The core's public face: what `createAgentStore()` returns and what its
 * handles can do. The classes behind them (core/agent-store.ts,
 * core/agent-session.ts) also hold what only the library's own workers may
 * call; those methods are not part of these types.
 */

/** Hands out handles on agent sessions; holds no per-session state, so one store serves every request of a process. */
export interface AgentStore {
  /**
   * Creates a session (a random 192-bit id unless `init.id` is given) and
   * returns a handle on it that acts as `init.userId` (anonymous without one).
   * `SessionExistsError` if the id is taken.
   */
  create(init?: AgentSessionInit): Promise<AgentSession>;
  /** A handle on an existing session, acting as `caller`. No I/O; `InvalidSessionIdError` for an unsafe id. */
  session(id: string, caller: Caller): AgentSession;
  /**
   * A handle on a conversation that may have left Redis (expired, evicted,
   * flushed): when its keys are gone it is restored from the cold tier in
   * one atomic step, bound to the user it belongs to, its seq continuing
   * where the archive ends. `restored` says whether it had to come back.
   * `SessionNotFoundError` for an unknown or erased id, `SessionUserMismatchError`
   * for another user's conversation (nothing is read or restored).
   */
  resume(id: string, caller: Caller): Promise<{ session: AgentSession; restored: boolean }>;
  /** The archived turns of a conversation, beyond the window, a page at a time (cold tier). */
  history(id: string, caller: Caller, query?: HistoryQuery): Promise<Turn[]>;
  /** A user's conversations, newest first, a page at a time (cold tier). */
  conversations(userId: string, page?: ConversationPage): Promise<ConversationList>;
  /**
   * How far behind the observer of `kind` (default "default") is: jobs in
   * its queue, jobs received by a worker and not yet done, and the age of
   * the oldest job (null when the queue is empty). One read-only round trip.
   */
  observerBacklog(options?: { kind?: string }): Promise<ObserverBacklog>;
  /**
   * Listens to the events of one session (README "Session events"):
   * resolves once subscribed, with the function that unsubscribes. Does NOT
   * check the user binding: check that the caller may see the session first
   * (e.g. `await store.session(id, caller).touch()`). Events carry no
   * content. At most once: after the subscriber connection was lost and is
   * back, `onGap` is called (re-read the state). One shared connection per
   * Redis connection, one SUBSCRIBE per session however many listeners.
   */
  subscribe(sessionId: string, listener: (event: SessionEvent) => void, options?: SubscribeOptions): Promise<() => Promise<void>>;
  /**
   * The same as an async iterable: yields each event, and `{ type: 'gap' }`
   * where events may have been missed. Ends when `signal` aborts (or the
   * loop is left). The binding is not checked, as for `subscribe`.
   */
  events(sessionId: string, options?: { signal?: AbortSignal | undefined }): AsyncIterable<SessionEvent | SessionEventGap>;
}

export interface ObservationRequestOptions {
  /** Which observer kind (queue) to ask; default "default". Workers serve one kind each. */
  kind?: string | undefined;
  /**
   * How long the request may wait in the queue before a new request stops
   * coalescing into it and queues another job (ms, default 60 s). Also bounds
   * how long requests are swallowed if this process dies between marking the
   * session "queued" and queueing the job. At most the store's
   * `observerQueue.maxAgeMs` (a longer value is cut to it), so that the mark
   * never outlives a job trimmed by age.
   */
  queuedTtlMs?: number | undefined;
}

/**
 * What `requestObservation()` did. `queued`: a new job is in the queue
 * (`jobId` is its stream entry id). `coalesced`: a job that will see this
 * session's current turns is already queued, or one is running and one more
 * run will follow it; nothing was added.
 */
export type ObservationRequestResult =
  | { outcome: 'queued'; kind: string; jobId: string }
  | { outcome: 'coalesced'; kind: string; into: 'queued' | 'running' };

/**
 * A handle on one agent session, acting as one caller. Creating it does no
 * I/O; every method is one Redis round trip (requestObservation: two), atomic,
 * and checks the caller against the session's user binding in the same step.
 * Every call by a user resets the idle TTL of all of the session's keys; a
 * trusted caller's reads do not (see `Caller`).
 */
export interface AgentSession {
  readonly id: string;
  /** Metadata: userId, agentId, model, currentTask, createdAt, lastActive, turnCount, app fields. */
  meta(): Promise<AgentMeta>;
  /** Writes only the named fields; `null` removes one. */
  update(patch: MetaPatch): Promise<void>;
  /**
   * O(1) append; Redis assigns `seq` and `ts`; the window keeps the newest `maxTurns`.
   * With `idempotencyKey`, a repeat returns the first append's turn (same seq and ts)
   * and writes nothing; the key with another turn is refused (`IdempotencyConflictError`).
   */
  appendTurn(input: TurnInput, options?: IdempotentWriteOptions): Promise<Turn>;
  /** The newest turns by default; a seq range or a time range (inclusive, within the window). */
  turns(query?: TurnQuery): Promise<Turn[]>;
  /** Metadata, the last `lastTurns` (default 10) turns, tool calls and notes, in one round trip. */
  snapshot(options?: { lastTurns?: number | undefined; notes?: NotesQuery | undefined }): Promise<AgentSnapshot>;
  /**
   * Records a pending tool call; `ToolCallStateError` if one with this id was already started.
   * With `idempotencyKey`, a repeat returns the first start's call (same startedAt) and writes
   * nothing. The session keeps `maxToolCalls` calls: past it the oldest finished ones leave.
   */
  startToolCall(input: ToolCallInput, options?: IdempotentWriteOptions): Promise<ToolCall>;
  /**
   * pending → completed; `ToolCallStateError` if it is no longer pending, `ToolCallNotFoundError` if never started.
   * `{ cached: true }` marks a result that came from the tool cache (the call reads back with `cached: true`).
   */
  completeToolCall(callId: string, result: unknown, options?: CompleteToolCallOptions): Promise<void>;
  /** pending → failed, with the error's message. */
  failToolCall(callId: string, error: string | Error): Promise<void>;
  /** The calls in the window (every pending call, the newest finished ones), oldest first. */
  toolCalls(): Promise<ToolCall[]>;
  /** One call, reading only its fields; `ToolCallNotFoundError` if never started or gone from the window. */
  toolCall(callId: string): Promise<ToolCall>;
  /** The observer's notes and how stale they are by your tolerances; `{ ready: false }` before the first run. */
  notes<T = unknown>(query?: NotesQuery): Promise<NotesResult<T>>;
  /**
   * Asks the observer of `kind` to analyse this session, without waiting for
   * the analysis: resolves as soon as the request is durably in Redis.
   * Requests made while a job for the session is queued or running coalesce
   * (at most one more run follows the running one). `SessionNotFoundError`
   * for a missing session, and nothing is created.
   */
  requestObservation(options?: ObservationRequestOptions): Promise<ObservationRequestResult>;
  /** Resets the idle TTL of every key. False if the session no longer exists. */
  touch(): Promise<boolean>;
  /** Removes every key of the session (refused with `SessionUserMismatchError` for another user's session). */
  delete(): Promise<void>;
}
