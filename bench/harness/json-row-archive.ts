import type pg from 'pg';
import type { RedisClientType } from 'redis';
import type { TurnView } from '../contract.js';

/**
 * The cold tier an app writes by hand today, as the restore comparison of
 * the cold-tier stage uses it: the whole conversation as one JSON array in
 * one row per conversation, `(id text primary key, doc jsonb)`. A restore
 * reads the row with one SELECT and writes the newest `window` turns back
 * into a Redis list in one MULTI (DEL, RPUSH, PEXPIRE).
 *
 * What it leaves out, next to agent-session's resume: no metadata, tool
 * calls, notes or user binding come back, no owner check, nothing keeps the
 * next seq from being reused, and two restores of one conversation are not
 * kept from interleaving with appends. Its write side (rewriting the whole
 * document on each change) is not measured here.
 */
export class JsonRowArchive {
  readonly #pool: pg.Pool;
  readonly #redis: RedisClientType;
  readonly #schema: string;
  readonly #table: string;

  /** `schema`: a plain identifier of the bench's own. */
  constructor(pool: pg.Pool, redis: RedisClientType, schema: string) {
    this.#pool = pool;
    this.#redis = redis;
    this.#schema = schema;
    this.#table = `${schema}.conversations`;
  }

  async createTable(): Promise<void> {
    await this.#pool.query(`CREATE SCHEMA IF NOT EXISTS ${this.#schema}`);
    await this.#pool.query(`CREATE TABLE IF NOT EXISTS ${this.#table} (id text PRIMARY KEY, doc jsonb NOT NULL)`);
  }

  async save(id: string, turns: TurnView[]): Promise<void> {
    await this.#pool.query(`INSERT INTO ${this.#table} (id, doc) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`, [id, JSON.stringify(turns)]);
  }

  /** Bytes of the stored document: as JSON text, and as PostgreSQL stores it (jsonb, possibly compressed). */
  async size(id: string): Promise<{ jsonBytes: number; storedBytes: number }> {
    const { rows } = await this.#pool.query<{ json: number; stored: number }>(
      `SELECT octet_length(doc::text) AS json, pg_column_size(doc) AS stored FROM ${this.#table} WHERE id = $1`,
      [id],
    );
    return { jsonBytes: rows[0]?.json ?? 0, storedBytes: rows[0]?.stored ?? 0 };
  }

  /** Restores the newest `window` turns into `key`; returns how many were written (0: unknown id). */
  async restore(id: string, key: string, window: number, ttlMs: number): Promise<number> {
    const { rows } = await this.#pool.query<{ doc: TurnView[] }>(`SELECT doc FROM ${this.#table} WHERE id = $1`, [id]);
    const turns = rows[0]?.doc.slice(-window) ?? [];
    if (turns.length === 0) return 0;
    await this.#redis
      .multi()
      .del(key)
      .rPush(key, turns.map((turn) => JSON.stringify(turn)))
      .pExpire(key, ttlMs)
      .exec();
    return turns.length;
  }
}
