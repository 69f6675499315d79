import { observerQueueKey } from '../core/keys.js';
import { readObserverBacklog, type ObserverBacklog } from '../core/observer-backlog.js';
import { SCRIPT_ERRORS, scriptFailure, toAgentSessionError } from '../core/script-errors.js';
import type { LuaScript } from '../redis/script.js';
import { runScript } from '../redis/script.js';
import type { WorkerConfig } from './config.js';
import * as scripts from './scripts.js';

/** One delivered observation job. */
export interface Job {
  /** Stream entry id. */
  id: string;
  /** The session to observe ('' when the entry named none). */
  sessionId: string;
  /** Taken over from a consumer that stopped answering. */
  reclaimed: boolean;
}

/**
 * One observer kind's queue as this consumer sees it: a stream whose
 * consumer group is named after the kind. Delivered jobs stay pending (and
 * can be reclaimed by any consumer) until acknowledged; acknowledged jobs are
 * deleted, so the stream never holds more than the work still to do.
 */
export class JobQueue {
  readonly key: string;
  readonly #config: WorkerConfig<unknown>;

  constructor(config: WorkerConfig<unknown>) {
    this.key = observerQueueKey(config.keyPrefix, config.kind);
    this.#config = config;
  }

  async ensureGroup(): Promise<void> {
    await this.#run(scripts.ENSURE_GROUP, [this.#config.kind]);
  }

  /** Up to `count` jobs no consumer has received yet, after trimming the queue to its bounds. */
  async read(count: number): Promise<Job[]> {
    const { kind, consumerName, observerQueue } = this.#config;
    const reply = await this.#run(scripts.READ_JOBS, [kind, consumerName, count, observerQueue.maxLength, observerQueue.maxAgeMs]);
    return toJobs(reply, false);
  }

  /**
   * Up to `count` jobs that have been pending with some consumer for longer
   * than `claimIdleMs`, continuing a scan of the pending list from `cursor`.
   */
  async reclaim(cursor: string, count: number): Promise<{ cursor: string; jobs: Job[] }> {
    const { kind, consumerName, claimIdleMs } = this.#config;
    const reply = (await this.#run(scripts.CLAIM_JOBS, [kind, consumerName, claimIdleMs, cursor, count])) as [unknown, unknown];
    return { cursor: String(reply[0]), jobs: toJobs(reply[1], true) };
  }

  /** Resets a job's idle time so that nobody reclaims it while we work on it. */
  async touch(jobId: string): Promise<void> {
    await this.#run(scripts.TOUCH_JOB, [this.#config.kind, this.#config.consumerName, jobId]);
  }

  /** Acknowledges and deletes a job; with `requeueSessionId`, queues a new job for that session in the same step. */
  async ack(jobId: string, requeueSessionId = ''): Promise<void> {
    const { kind, observerQueue } = this.#config;
    await this.#run(scripts.ACK_JOB, [kind, jobId, requeueSessionId, observerQueue.maxLength, observerQueue.maxAgeMs]);
  }

  /** The queue's length, pending jobs and oldest job's age. */
  backlog(): Promise<ObserverBacklog> {
    const { redis, keyPrefix, kind, failFastMs } = this.#config;
    return readObserverBacklog(redis.client, keyPrefix, kind, failFastMs);
  }

  /** Leaves the group if this consumer holds no pending job. */
  async leave(): Promise<void> {
    await this.#run(scripts.LEAVE_GROUP, [this.#config.kind, this.#config.consumerName]);
  }

  /** A queue key that is not a stream comes back as CorruptStateError naming it; NO_GROUP is passed on as it is. */
  async #run(script: LuaScript, args: Array<string | number>): Promise<unknown> {
    try {
      return await runScript(this.#config.redis.client, script, [this.key], args, this.#config.failFastMs);
    } catch (error) {
      throw toAgentSessionError(error, { sessionId: '', sessionKeys: this.key });
    }
  }
}

function toJobs(reply: unknown, reclaimed: boolean): Job[] {
  const flat = Array.isArray(reply) ? reply : [];
  const jobs: Job[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) jobs.push({ id: String(flat[i]), sessionId: String(flat[i + 1]), reclaimed });
  return jobs;
}

/** The consumer group (or the whole stream) was removed, e.g. by FLUSHDB: the queue scripts' NO_GROUP. */
export function isMissingGroup(error: unknown): boolean {
  return scriptFailure(error)?.code === SCRIPT_ERRORS.NO_GROUP;
}
