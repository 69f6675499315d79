import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ColdTier } from '../core/cold-tier.js';
import { checkRedisOption, resolveKeyPrefix, STORE_DEFAULTS, type StoreRedis } from '../core/config.js';
import { archiveIndexKey, sessionKeys } from '../core/keys.js';
import { toAgentSessionError } from '../core/script-errors.js';
import { ConfigError, CorruptStateError, InvalidInputError } from '../errors.js';
import { instrumentation } from '../instrumentation.js';
import { failFast } from '../redis/fail-fast.js';
import { knownKeys, optionalFunction, optionsObject, wholeMs, wholeNumber } from '../options.js';
import { reconnectDelay } from '../redis/backoff.js';
import { resolveFailFastMs } from '../redis/options.js';
import { runScript } from '../redis/script.js';
import { archivedMeta, parseEntries } from './backlog-entries.js';
import { ACK, DRAIN, FORGET, PENDING, RELEASE } from './scripts.js';

export interface ArchiverOptions {
  /** The app's Redis connection (`connectRedis()`). */
  redis: StoreRedis;
  /** Where the records go: `createPgArchive()`. */
  archive: ColdTier;
  /** The store's key prefix. Default "agent:". */
  keyPrefix?: string | undefined;
  /** Sessions drained at once. Default 4. */
  concurrency?: number | undefined;
  /** Most backlog entries copied in one PostgreSQL transaction. Default 500. */
  batchSize?: number | undefined;
  /** How often an idle archiver looks for work (ms). Default 200. */
  pollIntervalMs?: number | undefined;
  /** How long a drain may hold a session before another archiver may take it over (ms). Default 30 s. */
  leaseMs?: number | undefined;
  /** The stores' `archive.registerEveryMs` (ms): a session stays indexed twice that long after its backlog empties. Default 30 s. */
  registerEveryMs?: number | undefined;
  /**
   * Retention: archived conversations idle for longer than this (ms) are
   * erased, checked every `retentionEveryMs` (default: a tenth of it, at most
   * an hour). Default: kept forever. Longer than the sessions' idle timeout
   * plus the archiver's lag, or live conversations are erased too.
   */
  retainIdleMs?: number | undefined;
  retentionEveryMs?: number | undefined;
  /** Receives what the archiver does; default: one console.warn line per problem. */
  logger?: ((event: ArchiverEvent) => void) | undefined;
}

export type ArchiverEvent =
  | { type: 'archived'; sessionId: string; records: number; remaining: number }
  /** Backlog entries that could not be read (hand-edited, foreign): counted and dropped, never retried forever. */
  | { type: 'skipped'; sessionId: string; entries: number }
  /** Retention erased this many conversations. */
  | { type: 'retention'; removed: number }
  /** PostgreSQL or Redis failed; the archiver backs off and retries. Nothing is lost: the entries stay in the backlog. */
  | { type: 'error'; sessionId?: string; message: string; retryInMs: number };

/** What `archiver.backlog()` reports. */
export interface ArchiveBacklog {
  /** Sessions in the archiver's index: announced with changes that may not be copied yet. */
  sessions: number;
  /** Changes (turns, tool-call states, notes) waiting in those sessions' backlogs. */
  entries: number;
  /** True when there were more than 1,000 sessions and `entries` counts only the oldest 1,000's. */
  sampled: boolean;
}

/** The most session backlogs `backlog()` reads the length of. */
const BACKLOG_SAMPLE = 1_000;

/** The node-redis commands `backlog()` sends (on every topology: each key goes to its own node). */
interface BacklogClient {
  zCard(key: string): Promise<number>;
  zRange(key: string, start: number, stop: number): Promise<unknown[]>;
  lLen(key: string): Promise<number>;
}

export interface ArchiverStats {
  /** Records copied into the archive since start. */
  archivedRecords: number;
  batches: number;
  errors: number;
}

const OPTIONS = ['redis', 'archive', 'keyPrefix', 'concurrency', 'batchSize', 'pollIntervalMs', 'leaseMs', 'registerEveryMs', 'retainIdleMs', 'retentionEveryMs', 'logger'];

/**
 * Copies every session's archive backlog into the cold tier, in the
 * background, and never on a request's path. It walks the index of
 * sessions with pending changes; for each, under a per-session lease (so
 * several archivers, on several machines, never copy one session's entries
 * twice at once or out of order): read the oldest entries and the metadata,
 * write them to PostgreSQL in one idempotent transaction, then trim exactly
 * those entries. A crash between the write and the trim copies them again
 * (at-least-once, harmless: the writes are idempotent).
 *
 * PostgreSQL down: the write fails, the entries stay, the archiver backs off
 * (capped, jittered) and catches up when it returns; requests are unaffected
 * until a session's backlog is full (`archive.maxBacklog`).
 */
export class Archiver {
  readonly #redis: StoreRedis;
  readonly #failFastMs: number;
  readonly #tier: ColdTier;
  readonly #prefix: string;
  readonly #indexKey: string;
  readonly #concurrency: number;
  readonly #batchSize: number;
  readonly #pollIntervalMs: number;
  readonly #leaseMs: number;
  readonly #forgetAfterUs: number;
  readonly #log: (event: ArchiverEvent) => void;
  readonly #retention: { idleMs: number; everyMs: number } | undefined;
  #retentionDueAt = 0;
  readonly #token = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  readonly #stats: ArchiverStats = { archivedRecords: 0, batches: 0, errors: 0 };
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(options: ArchiverOptions) {
    optionsObject(options, 'createArchiver() needs an options object: createArchiver({ redis: await connectRedis({ url }), archive: createPgArchive({ connectionString }) }).');
    knownKeys(options, OPTIONS, { what: 'createArchiver()' });
    checkRedisOption(options.redis, 'createArchiver({ redis: await connectRedis({ url }), archive })');
    const tier = options.archive as Partial<ColdTier> | undefined;
    if (typeof tier?.writeBatches !== 'function') {
      throw new ConfigError('`archive` must be the archive from createPgArchive() (agent-session/archive).');
    }
    this.#redis = options.redis;
    this.#failFastMs = resolveFailFastMs('redis.failFastMs', options.redis.failFastMs);
    this.#tier = options.archive;
    this.#prefix = resolveKeyPrefix(options.keyPrefix);
    this.#indexKey = archiveIndexKey(this.#prefix);
    this.#concurrency = wholeNumber('concurrency', options.concurrency, 4, { max: 1_000 });
    this.#batchSize = wholeNumber('batchSize', options.batchSize, 500, { max: 10_000 });
    this.#pollIntervalMs = wholeMs('pollIntervalMs', options.pollIntervalMs, 200);
    this.#leaseMs = wholeMs('leaseMs', options.leaseMs, 30_000);
    this.#forgetAfterUs = 2 * wholeMs('registerEveryMs', options.registerEveryMs, STORE_DEFAULTS.archive.registerEveryMs) * 1000;
    const retainIdleMs = options.retainIdleMs === undefined ? undefined : wholeMs('retainIdleMs', options.retainIdleMs, 0);
    this.#retention =
      retainIdleMs === undefined
        ? undefined
        : { idleMs: retainIdleMs, everyMs: wholeMs('retentionEveryMs', options.retentionEveryMs, Math.min(3_600_000, Math.max(1_000, Math.floor(retainIdleMs / 10)))) };
    const logger = optionalFunction<(event: ArchiverEvent) => void>('logger', options.logger, 'a function that receives archiver events');
    this.#log = (event) => {
      if (event.type === 'error') instrumentation?.archiveError();
      try {
        (logger ?? defaultLogger)(event);
      } catch {
        // A throwing logger must not stop the archive.
      }
    };
  }

  get stats(): Readonly<ArchiverStats> {
    return { ...this.#stats };
  }

  /**
   * How far behind the archive is, for monitoring: the sessions announced
   * with changes not yet copied (ZCARD of the index), and those changes
   * (LLEN of the backlog of each of the oldest `BACKLOG_SAMPLE` of them;
   * past that many sessions, `entries` counts only theirs and `sampled`
   * says so). Read-only; several round trips, bounded by `failFastMs`.
   */
  async backlog(): Promise<ArchiveBacklog> {
    const client = this.#redis.client as unknown as BacklogClient;
    return failFast(async () => {
      const [sessions, ids] = await Promise.all([client.zCard(this.#indexKey), client.zRange(this.#indexKey, 0, BACKLOG_SAMPLE - 1)]);
      const lengths = await Promise.all(ids.map((id) => client.lLen(sessionKeys(this.#prefix, String(id)).archive)));
      return { sessions: Number(sessions), entries: lengths.reduce((sum, length) => sum + Number(length), 0), sampled: Number(sessions) > ids.length };
    }, this.#failFastMs);
  }

  /** Starts archiving in the background. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops after the drains in progress (their leases are released); resolves when idle. Idempotent. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }

  /** Archives everything pending now, until the index holds nothing left to copy; for tests and shutdown hooks. */
  async drainAll(): Promise<void> {
    for (;;) {
      const pending = await this.#pending('-inf', 10_000);
      if (pending.length === 0) return;
      const moved = await this.#each(pending, (entry) => this.#archiveSession(entry.id, entry.score, true));
      if (!moved.some(Boolean)) return;
    }
  }

  async #run(): Promise<void> {
    let cursor = '-inf';
    let failures = 0;
    while (this.#running) {
      let worked = false;
      try {
        const page = await this.#pending(cursor, this.#concurrency * 8);
        cursor = page.length < this.#concurrency * 8 ? '-inf' : `(${page.at(-1)!.score}`;
        worked = (await this.#each(page, (entry) => this.#archiveSession(entry.id, entry.score, false))).some(Boolean);
        await this.#applyRetention();
        failures = 0;
      } catch (error) {
        failures += 1;
        const retryInMs = reconnectDelay(failures, { initialDelayMs: this.#pollIntervalMs, maxDelayMs: 10_000 });
        this.#stats.errors += 1;
        this.#log({ type: 'error', message: describe(error), retryInMs });
        await this.#pause(retryInMs);
        continue;
      }
      if (!worked && cursor === '-inf') await this.#pause(this.#pollIntervalMs);
    }
  }

  async #applyRetention(): Promise<void> {
    if (!this.#retention || Date.now() < this.#retentionDueAt) return;
    this.#retentionDueAt = Date.now() + this.#retention.everyMs;
    const removed = await this.#tier.removeIdle(this.#retention.idleMs);
    if (removed > 0) this.#log({ type: 'retention', removed });
  }

  /** Runs `work` over `items`, at most `concurrency` at once; rejects with the first failure once all settled. */
  async #each<T>(items: T[], work: (item: T) => Promise<boolean>): Promise<boolean[]> {
    const results: boolean[] = [];
    let failure: unknown;
    let next = 0;
    const lanes = Array.from({ length: Math.min(this.#concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        try {
          results[index] = await work(items[index]!);
        } catch (error) {
          failure ??= error;
          results[index] = false;
        }
      }
    });
    await Promise.all(lanes);
    if (failure !== undefined) throw failure;
    return results;
  }

  async #pending(cursor: string, count: number): Promise<Array<{ id: string; score: string }>> {
    const flat = (await this.#script(PENDING, [this.#indexKey], [cursor, count])) as unknown[];
    const entries: Array<{ id: string; score: string }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) entries.push({ id: String(flat[i]), score: String(flat[i + 1]) });
    return entries;
  }

  /**
   * Copies one session's backlog, batch by batch, until it is empty; then
   * drops the session from the index if no writer announced it since.
   * Returns whether anything was copied. `untilEmpty` keeps going even when
   * the archiver is stopping (drainAll).
   */
  async #archiveSession(sessionId: string, score: string, untilEmpty: boolean): Promise<boolean> {
    const keys = sessionKeys(this.#prefix, sessionId);
    let copied = false;
    try {
      while (untilEmpty || this.#running) {
        const reply = (await this.#script(DRAIN, [keys.meta, keys.archive, keys.archiveLease], [this.#token, this.#leaseMs, this.#batchSize])) as unknown[];
        if (reply[0] === 'busy') return copied;
        const entries = (reply[1] as unknown[]) ?? [];
        if (entries.length === 0) {
          await this.#script(FORGET, [this.#indexKey], [sessionId, score, this.#forgetAfterUs]);
          return copied;
        }
        const { records, skipped } = parseEntries(entries);
        if (skipped > 0) this.#log({ type: 'skipped', sessionId, entries: skipped });
        await this.#tier.writeBatches([{ sessionId, meta: archivedMeta(sessionId, reply[2], keys.meta), records }]);
        const remaining = Number(await this.#script(ACK, [keys.archive, keys.archiveLease], [this.#token, entries.length]));
        if (remaining < 0) return copied; // the lease expired meanwhile: the new holder copies these again
        copied = true;
        this.#stats.archivedRecords += records.length;
        this.#stats.batches += 1;
        instrumentation?.archived(records);
        this.#log({ type: 'archived', sessionId, records: records.length, remaining });
      }
      return copied;
    } catch (error) {
      // One corrupt session must not hold back the others (a failure here fails the whole page and backs off):
      // reported, left in the index as it is, tried again next pass. InvalidInputError is the tier refusing
      // a record of the wrong shape (valid JSON in the backlog, but not what a script writes), before any SQL.
      if (!(error instanceof CorruptStateError || error instanceof InvalidInputError)) throw error;
      this.#log({ type: 'error', sessionId, message: describe(error), retryInMs: this.#pollIntervalMs });
      return copied;
    } finally {
      await this.#script(RELEASE, [keys.archiveLease], [this.#token]).catch(() => undefined);
    }
  }

  /** A key that holds another type comes back as CorruptStateError naming it (the scripts' CORRUPT, Redis's WRONGTYPE). */
  async #script(script: Parameters<typeof runScript>[1], keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await runScript(this.#redis.client, script, keys, args, this.#failFastMs);
    } catch (error) {
      const typed = toAgentSessionError(error, { sessionId: '', sessionKeys: keys[0] ?? '' });
      throw typed instanceof CorruptStateError ? typed : error;
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function defaultLogger(event: ArchiverEvent): void {
  if (event.type === 'error') console.warn(`[agent-session archiver] ${event.message}; retrying in ${event.retryInMs} ms`);
  else if (event.type === 'skipped') console.warn(`[agent-session archiver] session ${event.sessionId}: ${event.entries} unreadable backlog entries dropped`);
}

/** Creates an archiver; call `start()` to begin copying backlogs into the archive. */
export function createArchiver(options: ArchiverOptions): Archiver {
  return new Archiver(options);
}
