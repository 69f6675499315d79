import type { ColdTier } from '../core/cold-tier.js';
import type { ObserverQueueOptions, StoreRedis } from '../core/config.js';
import type { AgentMeta, ToolCall, Turn } from '../core/types.js';

/** The notes of the run before this one, as stored in the session. */
export interface PreviousNotes<T> {
  notes: T;
  /** The last turn they cover; `AnalyzeInput.turns` starts right after it. */
  coversThroughSeq: number;
  /** How old they are (Redis server time). */
  ageMs: number;
}

/** What `analyze` receives: a copy of the session, read without resetting its idle TTL. */
export interface AnalyzeInput<T> {
  sessionId: string;
  /** The observer kind this worker serves. */
  kind: string;
  meta: AgentMeta;
  /**
   * The turns the previous notes do not cover, oldest first: those after
   * `previousNotes.coversThroughSeq`, or the whole window when there are no
   * notes yet. May be empty (an observation was requested with no new turn).
   * The notes you return are stored as covering up to `meta.turnCount`.
   */
  turns: Turn[];
  /** Turns the notes never saw that have already left the window (0 normally). */
  missedTurns: number;
  toolCalls: ToolCall[];
  previousNotes?: PreviousNotes<T>;
  /** 1 for the first try of this run, then 2, 3... up to `maxAttempts`. */
  attempt: number;
  /**
   * Aborted when the run can no longer write (its lease was lost) or the
   * worker is stopping and the grace period ran out. Pass it to your LLM
   * client; whatever `analyze` returns after that is discarded.
   */
  signal: AbortSignal;
}

/**
 * Your analysis: returns the new notes (any JSON-serialisable value), which
 * replace the previous ones. Throw to have the run retried with backoff; after
 * `maxAttempts` failures the error message is recorded in the session.
 */
export type Analyze<T> = (input: AnalyzeInput<T>) => T | Promise<T>;

/**
 * How a job ended.
 * - `written`: notes written.
 * - `kept`: the session already had notes covering a later turn; they were kept.
 * - `failed`: `analyze` failed `maxAttempts` times; the error is recorded in the session. Or the
 *   session is corrupt (CorruptStateError, naming the key): failed at once, without retries, and
 *   recorded in the session where its observer hash still takes it. The job is acknowledged either way.
 * - `session-gone`: the session was deleted or expired; the job was dropped and nothing recreated.
 * - `busy`: another run held the session's lease; the job stays pending and is retried after `claimIdleMs`.
 * - `lease-lost`: the run lost its lease (it outlived `leaseMs` without a heartbeat); it wrote nothing.
 * - `released`: the worker stopped before the run finished; the job was handed back to the queue.
 * - `abandoned`: Redis failed mid-run; the job stays pending and is retried after `claimIdleMs`.
 * - `invalid-job`: the queue entry named no valid session id; it was dropped.
 */
export type RunOutcome =
  | 'written'
  | 'kept'
  | 'failed'
  | 'session-gone'
  | 'busy'
  | 'lease-lost'
  | 'released'
  | 'abandoned'
  | 'invalid-job';

interface JobEventBase {
  kind: string;
  /** The job's stream entry id. */
  jobId: string;
  sessionId: string;
}

/** What the worker reports to `logger`. Problems are the events with an `error`. */
export type ObserverEvent =
  /** A run took the session's lease; `reclaimed` when the job came from a worker that stopped answering. */
  | (JobEventBase & { type: 'run-started'; reclaimed: boolean })
  /** `analyze` (or the write of its notes) failed; another attempt follows after `delayMs`. */
  | (JobEventBase & { type: 'retry'; attempt: number; delayMs: number; error: string })
  /** A job is done with, for now or for good; see `RunOutcome`. `requeued`: one more run was queued. */
  | (JobEventBase & {
      type: 'run-finished';
      outcome: RunOutcome;
      attempts: number;
      requeued: boolean;
      coversThroughSeq?: number;
      error?: string;
    })
  /** Fetching jobs failed (Redis unreachable, say); the worker keeps trying with backoff. */
  | { type: 'error'; kind: string; error: string };

export interface ObserverWorkerOptions<T = unknown> {
  /** The connection, e.g. `await connectRedis({ url })`; the worker never closes it. */
  redis: StoreRedis;
  /** Your analysis; see `Analyze`. */
  analyze: Analyze<T>;
  /** Runs at once in this process. Default 4. */
  concurrency?: number | undefined;
  /** Which observation queue to serve (`session.requestObservation({ kind })`). Default "default". */
  kind?: string | undefined;
  /** Must match the app's store. Default "agent:". */
  keyPrefix?: string | undefined;
  /**
   * How long a run's lease on its session lasts without a heartbeat (ms,
   * default 30 s). The worker extends it every third of that while the run is
   * alive; if the worker dies, another can take the session over after this.
   */
  leaseMs?: number | undefined;
  /**
   * How long a job may sit unacknowledged with a worker that stopped
   * answering before another worker takes it over (ms, default 60 s). Live
   * workers keep their jobs fresh with the heartbeat.
   */
  claimIdleMs?: number | undefined;
  /** Tries of `analyze` per run before the error is recorded. Default 3. */
  maxAttempts?: number | undefined;
  /** Delay (ms) after failed attempt n (1-based). Default `exponentialBackoff()`: ~1 s, 2 s, 4 s... capped at 30 s. */
  retryBackoff?: ((failedAttempt: number) => number) | undefined;
  /** How long an idle worker waits before looking for jobs again (ms). Default 250. */
  pollIntervalMs?: number | undefined;
  /** How long `stop()` lets running analyses finish before aborting and handing their jobs back (ms). Default 10 s. */
  stopGraceMs?: number | undefined;
  /** Largest notes `analyze` may return, as JSON, in UTF-8 bytes; larger ones count as a failed attempt. Default 256 KiB. */
  notesBytes?: number | undefined;
  /**
   * Bounds of the queue, applied on every poll and every rerun it queues:
   * at most `maxLength` jobs (default 100,000), none older than `maxAgeMs`
   * (default 1 h, the store's default idle timeout: give the worker the
   * app's `observerQueue` / `idleTimeoutMs`).
   */
  observerQueue?: ObserverQueueOptions | undefined;
  /**
   * The cold tier (`createPgArchive()`), if the app archives: turns the
   * notes never saw that already left the window are read from it and
   * handed to `analyze` at the front of `turns` (at most 500 per run; the
   * rest stay counted in `missedTurns`).
   */
  archive?: ColdTier | undefined;
  /** This worker's consumer name in the group. Default host-pid-random, unique per worker. */
  consumerName?: string | undefined;
  /** Receives every event. Default: problems as one `console.warn` line each. */
  logger?: ((event: ObserverEvent) => void) | undefined;
}
