import pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import { ArchiveUnavailableError } from '../errors.js';
import type { ArchiveConfig } from './options.js';
import { toArchiveError } from './pg-errors.js';

/**
 * The archive's use of a node-postgres pool: every operation borrows one
 * client, runs on it under a hard deadline, and gives it back. Three rules:
 *
 * - A call settles within its bound whatever the pool does (an app's pool
 *   may have no connect timeout; a server that accepts the TCP connection and
 *   then says nothing never trips a socket error). The deadline covers the
 *   wait for a client and the work on it.
 * - A client that saw an error or outlived the deadline is destroyed, never
 *   handed back: it may be mid-transaction or mid-statement, and destroying
 *   the connection makes PostgreSQL roll back whatever it had open.
 * - No PostgreSQL error reaches the process as an unhandled 'error' event:
 *   node-postgres emits one on a client whose connection breaks, also while
 *   it is checked out (the pool's own listener is only on idle clients), and
 *   on the pool for idle clients. Both get listeners here.
 */

export type Work<T> = (client: PoolClient) => Promise<T>;

/**
 * Errors on a borrowed client are answered through the query in flight (or
 * the next query on it, which fails as "not queryable"); the event itself
 * only needs a listener so that it does not crash the process.
 */
function ignoreClientError(): void {}
/** The pool has already removed the broken idle client; the next borrow opens a fresh one. */
function ignoreIdleClientError(): void {}

export class ArchiveConnection {
  readonly #pool: Pool;
  readonly #owned: boolean;
  readonly #config: ArchiveConfig;
  readonly #guarded = new WeakSet<PoolClient>();
  #closed = false;

  constructor(config: ArchiveConfig) {
    this.#config = config;
    if (config.suppliedPool) {
      this.#pool = config.suppliedPool;
      this.#owned = false;
    } else {
      this.#pool = new pg.Pool(config.ownedPool);
      this.#pool.on('error', ignoreIdleClientError);
      this.#owned = true;
    }
  }

  /** A read on the request path: bounded by `queryTimeoutMs`. */
  read<T>(work: Work<T>): Promise<T> {
    return this.#run(this.#config.queryTimeoutMs, work);
  }

  /** A write (archiving, erasure, retention step): bounded by `writeTimeoutMs`. */
  write<T>(work: Work<T>): Promise<T> {
    return this.#run(this.#config.writeTimeoutMs, work);
  }

  /**
   * Work with no overall bound (migrations: DDL on a big table takes what it
   * takes). An owned pool still bounds the connect by `writeTimeoutMs`.
   */
  unbounded<T>(work: Work<T>): Promise<T> {
    return this.#run(undefined, work);
  }

  /** Ends an owned pool (waiting for borrowed clients to come back); an app's pool is left alone. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned) await this.#pool.end();
  }

  #run<T>(boundMs: number | undefined, work: Work<T>): Promise<T> {
    const reportedBoundMs = boundMs ?? this.#config.writeTimeoutMs;
    if (this.#closed) {
      return Promise.reject(new ArchiveUnavailableError(reportedBoundMs, 'the archive was closed'));
    }
    return new Promise<T>((resolve, reject) => {
      let borrowed: PoolClient | undefined;
      let expired = false;
      const timer =
        boundMs === undefined
          ? undefined
          : setTimeout(() => {
              expired = true;
              reject(new ArchiveUnavailableError(boundMs, 'no answer'));
              if (borrowed) destroy(borrowed);
            }, boundMs);

      const fail = (error: unknown): void => {
        if (expired) return;
        clearTimeout(timer);
        reject(toArchiveError(error, reportedBoundMs, this.#config.schema));
      };

      this.#pool.connect().then((client) => {
        this.#guard(client);
        if (expired) {
          // Late but healthy (it never ran anything of ours): back to the pool.
          client.release();
          return;
        }
        borrowed = client;
        let pending: Promise<T>;
        try {
          pending = work(client);
        } catch (error) {
          pending = Promise.reject(error);
        }
        pending.then(
          (value) => {
            if (expired) return; // destroyed by the deadline already
            clearTimeout(timer);
            client.release();
            resolve(value);
          },
          (error: unknown) => {
            if (!expired) destroy(client);
            fail(error);
          },
        );
      }, fail)
        // Insurance: a throw in the code above must not become an unhandled rejection.
        .catch(fail);
    });
  }

  #guard(client: PoolClient): void {
    if (this.#guarded.has(client)) return;
    this.#guarded.add(client);
    client.on('error', ignoreClientError);
  }
}

/** Releases a client to be closed rather than reused (node-postgres: `release(true)`). */
function destroy(client: PoolClient): void {
  client.release(true);
}

/**
 * Runs `work` in a transaction. BEGIN and the statement timeout go in one
 * round trip; on failure nothing is rolled back here because the caller's
 * client is destroyed (see above), which rolls it back on the server.
 */
export async function inTransaction<T>(client: PoolClient, begin: string, statementTimeoutMs: number, work: () => Promise<T>): Promise<T> {
  await client.query(`${begin}; SET LOCAL statement_timeout = ${Math.trunc(statementTimeoutMs)}`);
  const value = await work();
  await client.query('COMMIT');
  return value;
}
