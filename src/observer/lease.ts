import { randomBytes } from 'node:crypto';
import { OBSERVER_QUEUED_TTL_MS, sessionKeys } from '../core/keys.js';
import { toAgentSessionError } from '../core/script-errors.js';
import { runScript, type LuaScript } from '../redis/script.js';
import type { WorkerConfig } from './config.js';
import { BEGIN_RUN, END_RUN, EXTEND_RUN } from './scripts.js';

/**
 * A run's lease on one session, in one place: taking it, keeping it alive,
 * and giving it back. The lease is a key in the session's slot holding a
 * fencing token; the observer's writes carry the token and are refused once
 * another run holds the lease (see WRITE_NOTES in core).
 *
 *   take()   BEGIN_RUN: SET NX PX + job state "running"
 *   keep()   every heartbeatMs, EXTEND_RUN (compare-and-set) and a caller-supplied beat
 *   end()    END_RUN: compare-and-delete + move the job state on
 */
export type LeaseEnd = 'taken' | 'gone' | 'requeue' | 'done';

export class RunLease {
  readonly token: string;
  readonly #config: WorkerConfig<unknown>;
  readonly #keys: { meta: string; lease: string; jobs: string };
  readonly #sessionId: string;

  private constructor(config: WorkerConfig<unknown>, sessionId: string, token: string) {
    this.#config = config;
    this.#keys = sessionKeys(config.keyPrefix, sessionId);
    this.#sessionId = sessionId;
    this.token = token;
  }

  /** Runs a lease script; a key of the session that holds another type comes back as CorruptStateError naming it. */
  async #run(script: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> {
    const config = this.#config;
    try {
      return await runScript(config.redis.client, script, keys, args, config.failFastMs);
    } catch (error) {
      throw toAgentSessionError(error, { sessionId: this.#sessionId, sessionKeys: `${config.keyPrefix}{${this.#sessionId}}:*` });
    }
  }

  /** The lease, or why not: 'gone' (the session no longer exists) or 'busy' (another run holds it). */
  static async take(config: WorkerConfig<unknown>, sessionId: string): Promise<RunLease | 'gone' | 'busy'> {
    const lease = new RunLease(config, sessionId, `${config.consumerName}:${randomBytes(12).toString('base64url')}`);
    const { meta, lease: leaseKey, jobs } = lease.#keys;
    const begun = await lease.#run(BEGIN_RUN, [meta, leaseKey, jobs], [config.kind, lease.token, config.leaseMs]);
    if (begun === 'gone' || begun !== 'started') return begun === 'gone' ? 'gone' : 'busy';
    return lease;
  }

  /**
   * Extends the lease (compare-and-set) and runs `beat` every heartbeatMs.
   * A beat that cannot reach Redis is skipped: if the lease expires
   * meanwhile, the next beat finds out and `onLost` is called.
   */
  keep(beat: () => Promise<void>, onLost: () => void): { stop(): void } {
    const config = this.#config;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async () => {
      try {
        const held = await this.#run(EXTEND_RUN, [this.#keys.lease, this.#keys.jobs], [config.kind, this.token, config.leaseMs]);
        if (Number(held) !== 1) {
          onLost();
          return;
        }
        await beat();
      } catch {
        // Unreachable for now; see above.
      }
      if (!stopped) timer = setTimeout(tick, config.heartbeatMs);
    };
    timer = setTimeout(tick, config.heartbeatMs);
    return {
      stop() {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }

  /** Gives the lease back; `completed` says whether the run finished its work or is handing it back. */
  async end(completed: boolean): Promise<LeaseEnd> {
    const config = this.#config;
    const { meta, lease, jobs } = this.#keys;
    // The mark must not outlive the job the caller then queues (see requestObservation).
    const markMs = Math.min(OBSERVER_QUEUED_TTL_MS, config.observerQueue.maxAgeMs);
    const ended = await this.#run(END_RUN, [meta, lease, jobs], [config.kind, this.token, completed ? 'finish' : 'release', markMs]);
    return ended as LeaseEnd;
  }
}
