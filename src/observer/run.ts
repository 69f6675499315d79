import type { SessionHandle } from '../core/agent-session.js';
import { toTurn, type ColdTier } from '../core/cold-tier.js';
import { MAX_TURNS } from '../core/config.js';
import type { SessionStore } from '../core/agent-store.js';
import { CorruptStateError, LeaseLostError, SessionNotFoundError } from '../errors.js';
import type { AgentSnapshot } from '../core/types.js';
import { isUnavailability } from '../redis/fail-fast.js';
import { delay, messageOf, untilAborted } from './abortable.js';
import type { WorkerConfig } from './config.js';
import type { Job, JobQueue } from './queue.js';
import { RunLease } from './lease.js';
import type { AnalyzeInput, ObserverEvent, RunOutcome } from './types.js';

/**
 * One job, from taking the session's lease to acknowledging the job:
 *
 *   BEGIN_RUN (lease + "running")  -> 'gone': ack, drop | 'busy': leave pending
 *   (the lease: take, keep, end, in lease.ts)
 *   heartbeat every heartbeatMs: EXTEND_RUN (compare-and-set) + touch the job
 *   attempts: read a copy -> analyze -> one fenced writeNotes
 *             (a failure: backoff and retry; the last one: writeObserverError)
 *   END_RUN (compare-and-delete the lease, "rerun" -> "queued")
 *   ack the job; if END_RUN asked for it, queue the one extra job in the same step
 *
 * A corrupt session (CorruptStateError at any step) ends the job 'failed'
 * and acknowledged at once: retrying cannot mend it, and a job left pending
 * would be reclaimed and fail again until the session expired.
 *
 * The job is acknowledged only after END_RUN, so a crash anywhere before
 * leaves it pending and another worker reclaims it; see "Crash windows" in the README for
 * every crash window.
 */

export interface RunContext<T> {
  config: WorkerConfig<T>;
  store: SessionStore;
  queue: JobQueue;
  emit(event: ObserverEvent): void;
}

export interface RunControl {
  /** Aborted with reason 'lease-lost' or 'stop': the run must end at once and write nothing. */
  abort: AbortController;
  /** Aborted when the worker starts stopping: no new run begins and retry waits end. */
  stopping: AbortSignal;
}

export interface RunReport {
  outcome: RunOutcome;
  attempts: number;
  requeued: boolean;
  coversThroughSeq?: number;
  error?: string;
}

type AttemptsResult = Omit<RunReport, 'requeued'>;

/** Outcomes after which the job counts as done; the others hand it back. */
const COMPLETED: ReadonlySet<RunOutcome> = new Set<RunOutcome>(['written', 'kept', 'failed', 'session-gone']);

export async function runJob<T>(job: Job, context: RunContext<T>, control: RunControl): Promise<RunReport> {
  const { config, queue } = context;
  let session: SessionHandle;
  try {
    session = context.store.session(job.sessionId, { trusted: 'observer' });
  } catch (error) {
    await queue.ack(job.id);
    return { outcome: 'invalid-job', attempts: 0, requeued: false, error: messageOf(error) };
  }
  if (control.stopping.aborted) {
    // Received while stopping: hand it straight back.
    await queue.ack(job.id, job.sessionId);
    return { outcome: 'released', attempts: 0, requeued: true };
  }

  let lease: Awaited<ReturnType<typeof RunLease.take>>;
  try {
    lease = await RunLease.take(config as WorkerConfig<unknown>, session.id);
  } catch (error) {
    if (!(error instanceof CorruptStateError)) throw error;
    await queue.ack(job.id);
    return { outcome: 'failed', attempts: 0, requeued: false, error: messageOf(error) };
  }
  if (lease === 'gone') {
    await queue.ack(job.id);
    return { outcome: 'session-gone', attempts: 0, requeued: false };
  }
  if (lease === 'busy') return { outcome: 'busy', attempts: 0, requeued: false };
  context.emit({ type: 'run-started', kind: config.kind, jobId: job.id, sessionId: job.sessionId, reclaimed: job.reclaimed });

  const heartbeat = lease.keep(
    () => queue.touch(job.id),
    () => control.abort.abort('lease-lost'),
  );
  let result: AttemptsResult;
  try {
    result = await runAttempts(context, session, job, lease.token, control);
  } finally {
    heartbeat.stop();
  }

  let ended: Awaited<ReturnType<typeof lease.end>>;
  try {
    ended = await lease.end(COMPLETED.has(result.outcome));
  } catch (error) {
    if (!(error instanceof CorruptStateError)) throw error;
    // The job state cannot be moved on; the lease expires on its own. The job is done with.
    await queue.ack(job.id);
    return { outcome: 'failed', attempts: result.attempts, requeued: false, error: messageOf(error) };
  }
  // A run that did not complete because the session was deleted under it
  // (which also removes the lease, so its write reads as LEASELOST) is dropped.
  if (ended === 'gone' && !COMPLETED.has(result.outcome)) result = { outcome: 'session-gone', attempts: result.attempts };
  // Abandoned (Redis failing): the job stays pending; reclaiming it after
  // claimIdleMs is the backoff. Everything else is acknowledged here.
  if (result.outcome === 'abandoned') return { ...result, requeued: false };
  const requeue = ended === 'requeue';
  await queue.ack(job.id, requeue ? job.sessionId : '');
  return { ...result, requeued: requeue };
}

/** Read, analyze, write; retried with backoff. Never throws. */
async function runAttempts<T>(
  context: RunContext<T>,
  session: SessionHandle,
  job: Job,
  token: string,
  control: RunControl,
): Promise<AttemptsResult> {
  const { config } = context;
  const { signal } = control.abort;
  const interrupted = (attempts: number): AttemptsResult =>
    signal.reason === 'stop'
      ? { outcome: 'released', attempts }
      : { outcome: 'lease-lost', attempts, error: 'the lease expired or was taken over before the run could write' };

  for (let attempt = 1; ; attempt++) {
    let failure: unknown;
    try {
      const input = analyzeInput<T>(session.id, config.kind, await session.snapshot({ lastTurns: MAX_TURNS }), attempt, signal);
      if (config.archive && input.missedTurns > 0) await fillFromArchive(config.archive, input);
      const notes = await untilAborted(analyzeSafely(config.analyze, input), signal);
      const coversThroughSeq = input.meta.turnCount;
      const written = await session.writeNotes(notes, { coversThroughSeq, fencingToken: token });
      return { outcome: written ? 'written' : 'kept', attempts: attempt, coversThroughSeq };
    } catch (error) {
      if (signal.aborted) return interrupted(attempt);
      if (error instanceof CorruptStateError) return corruptSession(session, token, attempt, error);
      const settled = error instanceof AnalyzeFailed ? undefined : storeOutcome(error);
      if (settled === 'session-gone') return { outcome: settled, attempts: attempt };
      if (settled) return { outcome: settled, attempts: attempt, error: messageOf(error) };
      // analyze threw, its notes were refused (too large, not JSON), or the stored state is corrupt.
      failure = error instanceof AnalyzeFailed ? error.cause : error;
    }

    if (attempt >= config.maxAttempts) {
      const message = messageOf(failure);
      try {
        await session.writeObserverError(`analyze failed ${attempt} time(s); last error: ${message}`, { fencingToken: token });
      } catch (error) {
        return { outcome: storeOutcome(error) ?? 'abandoned', attempts: attempt, error: messageOf(error) };
      }
      return { outcome: 'failed', attempts: attempt, error: message };
    }
    const delayMs = Math.max(0, Math.round(config.retryBackoff(attempt)));
    context.emit({
      type: 'retry',
      kind: config.kind,
      jobId: job.id,
      sessionId: job.sessionId,
      attempt,
      delayMs,
      error: messageOf(failure),
    });
    await delay(delayMs, [signal, control.stopping]);
    if (signal.aborted) return interrupted(attempt);
    if (control.stopping.aborted) return { outcome: 'released', attempts: attempt };
  }
}

/**
 * The run met a corrupt session: no retry (the same read fails the same
 * way). The failure is recorded for the primary where the observer hash
 * still takes it; the error names the key, never its value.
 */
async function corruptSession(session: SessionHandle, token: string, attempts: number, error: CorruptStateError): Promise<AttemptsResult> {
  await session.writeObserverError(`the stored state is corrupt: ${error.message}`, { fencingToken: token }).catch(() => undefined);
  return { outcome: 'failed', attempts, error: error.message };
}

/** The most missed turns one run reads back from the archive. */
const MISSED_FROM_ARCHIVE = 500;

/** Puts the turns that left the window before the notes saw them back in front of `turns`, from the cold tier. */
async function fillFromArchive<T>(archive: ColdTier, input: AnalyzeInput<T>): Promise<void> {
  const firstInWindow = input.turns[0]?.seq ?? input.meta.turnCount + 1;
  const afterSeq = firstInWindow - input.missedTurns - 1;
  const missed = await archive.history(input.sessionId, { afterSeq, beforeSeq: firstInWindow, limit: MISSED_FROM_ARCHIVE, order: 'oldest-first' });
  input.turns = [...missed.map(toTurn), ...input.turns];
  input.missedTurns -= missed.length;
}

function analyzeInput<T>(sessionId: string, kind: string, snapshot: AgentSnapshot, attempt: number, signal: AbortSignal): AnalyzeInput<T> {
  const { meta, turns: window, toolCalls, notes } = snapshot;
  const coveredThrough = notes.ready ? notes.coversThroughSeq : 0;
  const firstInWindow = meta.turnCount - window.length + 1;
  const input: AnalyzeInput<T> = {
    sessionId,
    kind,
    meta,
    turns: window.filter((turn) => turn.seq > coveredThrough),
    missedTurns: Math.max(0, firstInWindow - (coveredThrough + 1)),
    toolCalls,
    attempt,
    signal,
  };
  if (notes.ready) input.previousNotes = { notes: notes.notes as T, coversThroughSeq: notes.coversThroughSeq, ageMs: notes.ageMs };
  return input;
}

/** Marks errors that come from the user's analyze, so they are retried whatever they look like. */
class AnalyzeFailed extends Error {
  constructor(cause: unknown) {
    super(messageOf(cause), { cause });
  }
}

async function analyzeSafely<T>(analyze: (input: AnalyzeInput<T>) => T | Promise<T>, input: AnalyzeInput<T>): Promise<T> {
  try {
    return await analyze(input);
  } catch (error) {
    throw new AnalyzeFailed(error);
  }
}

/** What a store error means for the run, or undefined when it is the analysis's problem. */
function storeOutcome(error: unknown): RunOutcome | undefined {
  if (error instanceof SessionNotFoundError) return 'session-gone';
  if (error instanceof LeaseLostError) return 'lease-lost';
  if (isUnavailability(error)) return 'abandoned';
  return undefined;
}
