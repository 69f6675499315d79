import { SessionStore } from '../core/agent-store.js';
import { instrumentation } from '../instrumentation.js';
import { reconnectDelay } from '../redis/backoff.js';
import { resolveWorkerConfig, type WorkerConfig } from './config.js';
import { isMissingGroup, JobQueue, type Job } from './queue.js';
import { delay, messageOf } from './abortable.js';
import { runJob, type RunContext, type RunReport } from './run.js';
import type { ObserverEvent, ObserverWorkerOptions } from './types.js';
import type { ObserverBacklog } from '../core/observer-backlog.js';

interface ActiveRun {
  abort: AbortController;
  done: Promise<void>;
}

/**
 * Serves one observer kind: takes jobs from its queue (new ones, and ones a
 * worker that stopped answering left pending for `claimIdleMs`), runs up to
 * `concurrency` of them at once, and never dies from a failing analysis or a
 * Redis outage (it reports them and keeps going).
 *
 * Jobs are polled, not read with a blocking XREADGROUP: a blocking read
 * would need a connection of its own (it holds up every other command on
 * its socket) and a per-command timeout above the block time, while a poll
 * is one short EVALSHA on the shared connection, works the same on every
 * topology and with an app-supplied client, and stops without interrupting
 * anything. An idle worker polls every `pollIntervalMs`; a busy one asks
 * again as soon as a run finishes.
 */
export class ObserverWorker<T = unknown> {
  readonly kind: string;
  /** This worker's consumer name in the kind's consumer group. */
  readonly consumerName: string;
  readonly #config: WorkerConfig<T>;
  readonly #queue: JobQueue;
  readonly #context: RunContext<T>;
  readonly #runs = new Map<string, ActiveRun>();
  readonly #stopping = new AbortController();
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  #started: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;
  #loop: Promise<void> | undefined;
  #wakeUp: (() => void) | undefined;
  #woken = false;

  constructor(options: ObserverWorkerOptions<T>) {
    this.#config = resolveWorkerConfig(options);
    this.kind = this.#config.kind;
    this.consumerName = this.#config.consumerName;
    const store = new SessionStore({
      redis: this.#config.redis,
      keyPrefix: this.#config.keyPrefix,
      limits: { notesBytes: this.#config.notesBytes },
    });
    this.#queue = new JobQueue(this.#config as WorkerConfig<unknown>);
    this.#context = { config: this.#config, store, queue: this.#queue, emit: (event) => this.#emit(event) };
  }

  /**
   * How far behind this kind's observers are: jobs in the queue, jobs
   * received and not yet done, and the oldest job's age (null when empty).
   */
  backlog(): Promise<ObserverBacklog> {
    return this.#queue.backlog();
  }

  /** Runs in progress right now. */
  get activeRuns(): number {
    return this.#runs.size;
  }

  /**
   * Creates the kind's consumer group if needed, then starts taking jobs in
   * the background. Rejects (and may be called again) if Redis cannot be
   * reached now; once started, outages are reported and retried.
   */
  start(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      return Promise.reject(new Error('This observer worker was stopped; create a new one with createObserverWorker() to start again.'));
    }
    this.#started ??= this.#queue.ensureGroup().then(
      () => {
        if (this.#state !== 'new') return;
        this.#state = 'running';
        this.#loop = this.#poll();
      },
      (error: unknown) => {
        this.#started = undefined;
        throw error;
      },
    );
    return this.#started;
  }

  /**
   * Stops taking jobs, lets running analyses finish for up to `stopGraceMs`,
   * then aborts the rest and hands their jobs back to the queue; resolves
   * when no run is left. Jobs are never lost by stopping: a job is either
   * finished, handed back, or (if Redis is unreachable right then) left
   * pending for another worker to reclaim. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#shutdown();
    return this.#stopped;
  }

  async #shutdown(): Promise<void> {
    await this.#started?.catch(() => undefined);
    this.#state = 'stopping';
    this.#stopping.abort('stop');
    this.#wake();
    await this.#loop;
    if (this.#runs.size > 0) {
      const grace = new AbortController();
      await Promise.race([this.#allRuns(), delay(this.#config.stopGraceMs, [grace.signal])]);
      grace.abort();
      for (const run of this.#runs.values()) run.abort.abort('stop');
      await this.#allRuns();
    }
    await this.#queue.leave().catch(() => undefined);
    this.#state = 'stopped';
  }

  #allRuns(): Promise<unknown> {
    return Promise.all([...this.#runs.values()].map((run) => run.done));
  }

  async #poll(): Promise<void> {
    const { concurrency, pollIntervalMs, reclaimEveryMs } = this.#config;
    let cursor = '0-0';
    let reclaimAt = 0;
    let failures = 0;
    while (this.#state === 'running') {
      const free = concurrency - this.#runs.size;
      if (free <= 0) {
        await this.#pause();
        continue;
      }
      try {
        const jobs: Job[] = [];
        if (Date.now() >= reclaimAt) {
          const reclaimed = await this.#queue.reclaim(cursor, free);
          cursor = reclaimed.cursor;
          if (cursor === '0-0') reclaimAt = Date.now() + reclaimEveryMs;
          // One of our own runs can show up here only if it stalled past claimIdleMs; it is still ours.
          jobs.push(...reclaimed.jobs.filter((job) => !this.#runs.has(job.id)));
        }
        if (jobs.length < free) jobs.push(...(await this.#queue.read(free - jobs.length)));
        failures = 0;
        for (const job of jobs) this.#launch(job);
        if (jobs.length === 0) await this.#pause(pollIntervalMs);
      } catch (error) {
        if (isMissingGroup(error)) {
          // The stream or group was removed (FLUSHDB, a manual DEL): recreate and carry on.
          const recreated = await this.#queue.ensureGroup().then(
            () => true,
            () => false,
          );
          if (recreated) continue;
        }
        failures += 1;
        this.#emit({ type: 'error', kind: this.kind, error: `fetching jobs failed (${messageOf(error)}); retrying` });
        await this.#pause(reconnectDelay(failures, { initialDelayMs: pollIntervalMs, maxDelayMs: 5_000 }));
      }
    }
  }

  #launch(job: Job): void {
    const abort = new AbortController();
    const startedAt = performance.now();
    const done = runJob(job, this.#context, { abort, stopping: this.#stopping.signal })
      .catch((error: unknown): RunReport => ({ outcome: 'abandoned', attempts: 0, requeued: false, error: messageOf(error) }))
      .then((report) => {
        instrumentation?.observerRun(this.kind, report.outcome, (performance.now() - startedAt) / 1000);
        this.#emit({ type: 'run-finished', kind: this.kind, jobId: job.id, sessionId: job.sessionId, ...report });
      })
      .finally(() => {
        this.#runs.delete(job.id);
        this.#wake();
      });
    this.#runs.set(job.id, { abort, done });
  }

  /** Waits `ms` (forever if omitted) or until woken by a finished run or stop(), including one that came first. */
  #pause(ms?: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.#wakeUp?.(), ms);
      this.#wakeUp = () => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        resolve();
      };
    });
  }

  #wake(): void {
    if (this.#wakeUp) this.#wakeUp();
    else this.#woken = true;
  }

  #emit(event: ObserverEvent): void {
    try {
      this.#config.logger(event);
    } catch {
      // A throwing logger must not take a run down with it.
    }
  }
}

/** Creates a worker for one observer kind; call `start()` to begin taking jobs. */
export function createObserverWorker<T = unknown>(options: ObserverWorkerOptions<T>): ObserverWorker<T> {
  return new ObserverWorker(options);
}
