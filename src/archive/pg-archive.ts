import { ArchiveConnection, inTransaction } from './connection.js';
import {
  checkBatches,
  checkIdleMs,
  checkMaxTurns,
  checkNow,
  checkSessionId,
  checkTitle,
  checkUserId,
  resolveHistoryQuery,
  resolvePage,
} from './inputs.js';
import type { ColdTier, ConversationCursor, ConversationPage, HistoryQuery } from '../core/cold-tier.js';
import { applyMigrations, loadMigrations } from './migrations.js';
import { resolveArchiveOptions, type ArchiveConfig, type PgArchiveOptions } from './options.js';
import { readConversations, readForRestore, readHistory, readOwner } from './reads.js';
import type { ArchiveBatch, ConversationSummary, RestoreData, TurnRecord } from '../core/cold-tier.js';
import { eraseConversation, removeIdleChunk, RETENTION_CHUNK } from './removal.js';
import { tablesIn, type Tables } from './tables.js';
import { storableText } from './values.js';
import { planBatches, writePlan } from './write-batches.js';

/**
 * The PostgreSQL side of the cold tier: the durable archive of every
 * conversation. It knows nothing of Redis and checks no user: callers check
 * ownership (`owner()`) before they read or restore on a user's behalf.
 *
 * Reads are bounded by `queryTimeoutMs` and writes by `writeTimeoutMs`; when
 * PostgreSQL cannot answer within the bound, the call rejects with
 * `ArchiveUnavailableError` and never hangs. Errors never carry stored
 * content or the connection string.
 */
export class PgArchive implements ColdTier {
  /** The schema holding the archive's tables. */
  readonly schema: string;
  readonly #config: ArchiveConfig;
  readonly #connection: ArchiveConnection;
  readonly #tables: Tables;

  constructor(options: PgArchiveOptions) {
    this.#config = resolveArchiveOptions(options);
    this.schema = this.#config.schema;
    this.#tables = tablesIn(this.schema);
    this.#connection = new ArchiveConnection(this.#config);
  }

  /**
   * Creates the schema and applies every migration not applied yet.
   * Idempotent, and safe to call from several processes at once (an advisory
   * lock serialises them). Not bounded: DDL takes what it takes.
   */
  async migrate(): Promise<void> {
    const migrations = await loadMigrations();
    await this.#connection.unbounded((client) => applyMigrations(client, this.#tables, this.schema, migrations));
  }

  /**
   * Archives drained batches, all in one transaction: either all of them are
   * stored or none. Re-writing a batch changes nothing, so the archiver may
   * retry a call whose outcome it does not know. Batches of erased
   * conversations are dropped, and so is a batch without meta of a
   * conversation the archive has never seen (its owner is unknown).
   */
  async writeBatches(batches: readonly ArchiveBatch[]): Promise<void> {
    checkBatches(batches);
    if (batches.length === 0) return;
    const plan = planBatches(batches);
    await this.#connection.write((client) =>
      inTransaction(client, 'BEGIN', this.#config.writeTimeoutMs, () => writePlan(client, this.#tables, plan)),
    );
  }

  /**
   * What a restore puts back into Redis: the metadata, the newest `maxTurns`
   * turns, every tool call, the latest notes, and the highest seq archived.
   * Null when the conversation is unknown or was erased.
   */
  async loadForRestore(sessionId: string, maxTurns: number): Promise<RestoreData | null> {
    checkSessionId(sessionId);
    const limit = checkMaxTurns(maxTurns);
    return this.#connection.read((client) =>
      inTransaction(client, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', this.#config.queryTimeoutMs, () =>
        readForRestore(client, this.#tables, sessionId, limit),
      ),
    );
  }

  /** The user a conversation is bound to (`userId: null`: anonymous), or null when it is unknown or erased. */
  async owner(sessionId: string): Promise<{ userId: string | null } | null> {
    checkSessionId(sessionId);
    return this.#connection.read((client) => readOwner(client, this.#tables, sessionId));
  }

  /** A page of a conversation's turns, by seq (see `HistoryQuery`). Empty for an unknown or erased conversation. */
  async history(sessionId: string, query: HistoryQuery = {}): Promise<TurnRecord[]> {
    checkSessionId(sessionId);
    const resolved = resolveHistoryQuery(query);
    return this.#connection.read((client) => readHistory(client, this.#tables, sessionId, resolved));
  }

  /**
   * A page of a user's conversations, most recently active first. Pass the
   * returned `next` as `before` for the following page; no `next`, no more.
   */
  async listConversations(userId: string, page: ConversationPage = {}): Promise<{ conversations: ConversationSummary[]; next?: ConversationCursor }> {
    checkUserId(userId);
    const resolved = resolvePage(page);
    return this.#connection.read((client) => readConversations(client, this.#tables, userId, resolved));
  }

  /**
   * Sets (or, with null, removes) the title shown in a user's list.
   * Archiving never overwrites it. Returns false when the conversation is
   * not in the archive (yet, or any more). Bounded like a read: it runs on
   * the request path.
   */
  async setTitle(sessionId: string, title: string | null): Promise<boolean> {
    checkSessionId(sessionId);
    checkTitle(title);
    const stored = title === null ? null : storableText(title);
    const result = await this.#connection.read((client) =>
      client.query(`UPDATE ${this.#tables.conversations} SET title = $2 WHERE id = $1`, [sessionId, stored]),
    );
    return (result.rowCount ?? 0) > 0;
  }

  /**
   * Removes every row of a conversation and leaves a tombstone, in one
   * transaction: nothing of it can be restored or read afterwards, and a
   * batch still in flight will not bring it back. Erasing an unknown id
   * leaves a tombstone too (its batches may not have arrived yet).
   */
  async erase(sessionId: string): Promise<void> {
    checkSessionId(sessionId);
    await this.#connection.write((client) =>
      inTransaction(client, 'BEGIN', this.#config.writeTimeoutMs, () => eraseConversation(client, this.#tables, sessionId)),
    );
  }

  /**
   * Retention: removes, with tombstones, every conversation whose last
   * activity is more than `idleMs` ago, and returns how many. "Now" is the
   * database's clock, or `options.now` (ms since epoch) to measure against
   * another clock (Redis's, which stamped lastActive). Runs in steps of 500
   * conversations, one transaction each; conversations being archived at
   * that moment are left for the next run. Choose `idleMs` well above the
   * sessions' idle timeout plus the longest archiving delay you expect:
   * a removed conversation's id stays tombstoned.
   */
  async removeIdle(idleMs: number, options: { now?: number } = {}): Promise<number> {
    const idle = checkIdleMs(idleMs);
    const now = checkNow(options.now);
    let removed = 0;
    for (;;) {
      const step = await this.#connection.write((client) =>
        inTransaction(client, 'BEGIN', this.#config.writeTimeoutMs, () => removeIdleChunk(client, this.#tables, idle, now)),
      );
      removed += step;
      if (step < RETENTION_CHUNK) return removed;
    }
  }

  /** Ends the pool the archive created; an app-supplied pool is left open. Further calls reject. */
  close(): Promise<void> {
    return this.#connection.close();
  }
}

/** The archive on a PostgreSQL database; see `PgArchiveOptions`. Does no I/O until a method is called. */
export function createPgArchive(options: PgArchiveOptions): PgArchive {
  return new PgArchive(options);
}
