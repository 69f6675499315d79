import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ArchiveQueryError, ArchiveUnavailableError, createPgArchive, type PgArchive } from 'agent-session/archive';
import { ArchiveUnavailableError as FromMainEntry } from 'agent-session';
import { ArchiveConnection } from '../../src/archive/connection.js';
import { resolveArchiveOptions } from '../../src/archive/options.js';
import { freePort } from '../harness/redis-server.js';
import { eventually, rejectionOf } from '../harness/wait.js';
import { archiveForThisFile, inspectionPool, meta, turnBatch, uniqueId, uniqueSchema } from './support.js';

const QUERY_TIMEOUT_MS = 500;
const WRITE_TIMEOUT_MS = 1_000;
// The bound is "within queryTimeoutMs"; the margin absorbs a loaded CI machine.
const MARGIN_MS = 1_000;
const SECRET = 'hunter2-Secret';

const bounds = { queryTimeoutMs: QUERY_TIMEOUT_MS, writeTimeoutMs: WRITE_TIMEOUT_MS };
const { archive: live, sql, schema } = archiveForThisFile(bounds);
const toClose: Array<{ close(): Promise<unknown> }> = [];
afterAll(async () => {
  for (const item of toClose) await item.close();
});

/** Every call of the archive, each expected to fail within `boundMs` (+ margin) when PostgreSQL cannot answer. */
function everyCall(archive: PgArchive): Array<{ name: string; call: () => Promise<unknown>; boundMs: number }> {
  const id = uniqueId();
  return [
    { name: 'loadForRestore', call: () => archive.loadForRestore(id, 50), boundMs: QUERY_TIMEOUT_MS },
    { name: 'owner', call: () => archive.owner(id), boundMs: QUERY_TIMEOUT_MS },
    { name: 'history', call: () => archive.history(id), boundMs: QUERY_TIMEOUT_MS },
    { name: 'listConversations', call: () => archive.listConversations('user-1'), boundMs: QUERY_TIMEOUT_MS },
    { name: 'setTitle', call: () => archive.setTitle(id, 'title'), boundMs: QUERY_TIMEOUT_MS },
    { name: 'writeBatches', call: () => archive.writeBatches([turnBatch(id, 1, 3)]), boundMs: WRITE_TIMEOUT_MS },
    { name: 'erase', call: () => archive.erase(id), boundMs: WRITE_TIMEOUT_MS },
    { name: 'removeIdle', call: () => archive.removeIdle(1_000), boundMs: WRITE_TIMEOUT_MS },
  ];
}

async function expectUnavailable(archive: PgArchive): Promise<void> {
  for (const { name, call, boundMs } of everyCall(archive)) {
    const { error, elapsedMs } = await rejectionOf(call());
    expect(error, name).toBeInstanceOf(ArchiveUnavailableError);
    expect(elapsedMs, name).toBeLessThan(boundMs + MARGIN_MS);
    expect(JSON.stringify({ message: (error as Error).message, stack: (error as Error).stack, ...(error as object) })).not.toContain(SECRET);
    expect((error as Error).cause, name).toBeUndefined();
  }
}

/** A TCP server that accepts connections and never says a word: PostgreSQL hung, or a black-holing proxy. */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `postgres://archive:${SECRET}@127.0.0.1:${port}/app`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('PostgreSQL unavailable', () => {
  it('nothing listening: every call rejects with ArchiveUnavailableError within its bound, without the password', async () => {
    const port = await freePort();
    const archive = createPgArchive({ connectionString: `postgres://archive:${SECRET}@127.0.0.1:${port}/app`, ...bounds });
    toClose.push(archive);
    await expectUnavailable(archive);
    const { error } = await rejectionOf(archive.history(uniqueId()));
    expect(error).toMatchObject({ code: 'ARCHIVE_UNAVAILABLE', reason: 'ECONNREFUSED', timeoutMs: QUERY_TIMEOUT_MS });
    expect((error as Error).message).toMatch(/could not be reached within 500 ms \(ECONNREFUSED\).*retry/);
    // The same class from the main entry point, as every error of the library.
    expect(error).toBeInstanceOf(FromMainEntry);
  });

  it('a server that accepts and never answers: every call still rejects within its bound', async () => {
    const silent = await silentServer();
    const archive = createPgArchive({ connectionString: silent.url, ...bounds });
    await expectUnavailable(archive);
    await silent.close();
    await archive.close();
  });

  it("an app's pool without any connect timeout is bounded all the same, and left open by close()", async () => {
    const silent = await silentServer();
    const pool = new pg.Pool({ connectionString: silent.url });
    pool.on('error', () => {});
    const archive = createPgArchive({ pool, ...bounds });
    const { error, elapsedMs } = await rejectionOf(archive.history(uniqueId()));
    expect(error).toBeInstanceOf(ArchiveUnavailableError);
    expect(elapsedMs).toBeLessThan(QUERY_TIMEOUT_MS + MARGIN_MS);
    await archive.close();
    await silent.close();
    await pool.end();

    const appPool = inspectionPool();
    const onAppPool = createPgArchive({ pool: appPool, schema });
    expect(await onAppPool.owner(uniqueId())).toBeNull();
    await onAppPool.close();
    await expect(appPool.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await appPool.end();
  });

  it('a statement stuck behind a lock is abandoned at the bound', async () => {
    const id = uniqueId();
    await live.writeBatches([turnBatch(id, 1, 1)]);
    const holder = await sql.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM ${schema}.conversations WHERE id = $1 FOR UPDATE`, [id]);
      const { error, elapsedMs } = await rejectionOf(live.setTitle(id, 'renamed'));
      expect(error).toMatchObject({ code: 'ARCHIVE_UNAVAILABLE', reason: 'no answer' });
      expect(elapsedMs).toBeLessThan(QUERY_TIMEOUT_MS + MARGIN_MS);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    // The abandoned connection was not handed back half-used: the archive goes on working.
    expect(await live.owner(id)).toEqual({ userId: 'user-1' });
  });

  it('a connection killed while the archive is using it fails that call only, and never crashes the process', async () => {
    const id = uniqueId();
    await live.writeBatches([turnBatch(id, 1, 1)]);
    const holder = await sql.connect();
    let erasing: ReturnType<typeof rejectionOf> | undefined;
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM ${schema}.conversations WHERE id = $1 FOR UPDATE`, [id]);
      // Its rejection is taken at once: it comes while the test awaits other things.
      erasing = rejectionOf(live.erase(id));
      const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      let victim: number | undefined;
      await eventually('the erasure to wait for the row lock', async () => {
        const { rows } = await sql.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [holderPid]);
        victim = rows[0]?.pid;
        return victim !== undefined;
      });
      await sql.query('SELECT pg_terminate_backend($1)', [victim]);
      const { error } = await erasing;
      expect(error).toBeInstanceOf(ArchiveUnavailableError);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect(await live.owner(id)).toEqual({ userId: 'user-1' });
  });

  it('a connection lost between two statements of a call (no query in flight) fails that call, with no error event escaping', async () => {
    const connection = new ArchiveConnection(resolveArchiveOptions({ connectionString: inject('pgUrl'), schema, ...bounds }));
    toClose.push(connection);
    const call = connection.write(async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const ended = new Promise((resolve) => client.once('end', resolve));
      // node-postgres emits 'error' on the client we hold: unhandled, that would crash the process.
      await sql.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
      await ended;
      await client.query('SELECT 1');
    });
    await expect(call).rejects.toMatchObject({ code: 'ARCHIVE_UNAVAILABLE', reason: 'connection lost' });
  });

  it('idle connections killed by the server are replaced, with no error escaping', async () => {
    const name = `archive_test_${uniqueSchema()}`;
    const archive = createPgArchive({ connectionString: `${inject('pgUrl')}?application_name=${name}`, schema, ...bounds });
    toClose.push(archive);
    await Promise.all([archive.owner(uniqueId()), archive.owner(uniqueId()), archive.owner(uniqueId())]);
    const { rows } = await sql.query<{ killed: boolean }>(
      'SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1',
      [name],
    );
    expect(rows.length).toBeGreaterThan(0);
    await eventually('the archive to answer on fresh connections', async () => {
      try {
        await archive.writeBatches([{ sessionId: uniqueId(), meta: meta(), records: [] }]);
        return true;
      } catch (error) {
        expect(error).toBeInstanceOf(ArchiveUnavailableError);
        return false;
      }
    });
  });

  it('a schema that was never migrated: ArchiveQueryError naming the SQLSTATE and the fix', async () => {
    const archive = createPgArchive({ connectionString: inject('pgUrl'), schema: uniqueSchema(), ...bounds });
    toClose.push(archive);
    const { error } = await rejectionOf(archive.history(uniqueId()));
    expect(error).toBeInstanceOf(ArchiveQueryError);
    expect(error).toMatchObject({ code: 'ARCHIVE_QUERY_FAILED', sqlState: '42P01' });
    expect((error as Error).message).toMatch(/call archive\.migrate\(\)/i);
  });

  it('a database that does not exist: ArchiveQueryError saying so, not a retry', async () => {
    const url = new URL(inject('pgUrl'));
    url.pathname = `/${uniqueSchema()}_missing`;
    const archive = createPgArchive({ connectionString: url.toString(), ...bounds });
    toClose.push(archive);
    const { error } = await rejectionOf(archive.owner(uniqueId()));
    expect(error).toMatchObject({ code: 'ARCHIVE_QUERY_FAILED', sqlState: '3D000' });
    expect((error as Error).message).toMatch(/database named in the connection does not exist/);
  });

  it('after close(), calls reject instead of reopening the pool', async () => {
    const archive = createPgArchive({ connectionString: inject('pgUrl'), schema, ...bounds });
    expect(await archive.owner(uniqueId())).toBeNull();
    await archive.close();
    await expect(archive.owner(uniqueId())).rejects.toMatchObject({ code: 'ARCHIVE_UNAVAILABLE', reason: 'the archive was closed' });
  });
});
