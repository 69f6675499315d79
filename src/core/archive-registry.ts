import { runScript } from '../redis/script.js';
import type { RedisCommandClient } from '../redis/client.js';
import { ARCHIVE_REGISTER } from './scripts.js';

/** At most this many sessions are remembered as registered; older ones are forgotten (and registered again). */
const REMEMBERED = 10_000;

/**
 * Tells the archiver which sessions have something in their backlog, at
 * most once per `everyMs` per session and process: a session's backlog
 * lives in its own hash slot, the archiver's index in another, so no script
 * can do both.
 *
 * The registration is sent before the write it announces and awaited with
 * it: on one connection (standalone, Sentinel) Redis runs them in that order,
 * so a backlog entry never exists unannounced; on Cluster they travel in
 * parallel to two nodes. The archiver drops a session from its index only
 * when its backlog is empty and no process registered it for 2 x everyMs
 * (archiveForget), longer than any process remembers a registration here.
 */
export class ArchiveRegistry {
  readonly everyMs: number;
  readonly #client: RedisCommandClient;
  readonly #indexKey: string;
  readonly #failFastMs: number;
  readonly #registeredAt = new Map<string, number>();
  /** Announcements on their way, so concurrent writes of one session send one, not one each. */
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(client: RedisCommandClient, indexKey: string, failFastMs: number, everyMs: number) {
    this.#client = client;
    this.#indexKey = indexKey;
    this.#failFastMs = failFastMs;
    this.everyMs = everyMs;
  }

  /** The registration to send alongside a write, or undefined when this process registered the session recently. */
  announce(sessionId: string): Promise<void> | undefined {
    const now = Date.now();
    const last = this.#registeredAt.get(sessionId);
    if (last !== undefined && now - last < this.everyMs) return undefined;
    const pending = this.#inFlight.get(sessionId);
    if (pending) return pending;
    const announcement = runScript(this.#client, ARCHIVE_REGISTER, [this.#indexKey], [sessionId], this.#failFastMs)
      .then(() => this.#remember(sessionId, now))
      .finally(() => this.#inFlight.delete(sessionId));
    this.#inFlight.set(sessionId, announcement);
    return announcement;
  }

  #remember(sessionId: string, at: number): void {
    this.#registeredAt.delete(sessionId);
    this.#registeredAt.set(sessionId, at);
    if (this.#registeredAt.size > REMEMBERED) {
      const oldest = this.#registeredAt.keys().next().value;
      if (oldest !== undefined) this.#registeredAt.delete(oldest);
    }
  }
}
