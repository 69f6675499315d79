import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { createPgArchive, type ArchiveBatch, type ArchivedMeta, type PgArchive, type PgArchiveCommonOptions, type TurnRecord } from 'agent-session/archive';

/** A schema name no other test file uses, in the run's own database. */
export function uniqueSchema(): string {
  return `s_${randomBytes(6).toString('hex')}`;
}

export function uniqueId(prefix = 'c'): string {
  return `${prefix}-${randomBytes(9).toString('base64url')}`;
}

/** Forwards to the value `get()` returns once the hooks have set it, so a file can hold it in a const. */
function lateBound<T extends object>(get: () => T | undefined, what: string): T {
  return new Proxy({} as T, {
    get(_target, property) {
      const target = get();
      if (!target) throw new Error(`${what} is only available inside tests and hooks`);
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * One migrated archive in a schema of its own for a whole test file, closed
 * (and its schema dropped) after the file's tests.
 */
export function archiveForThisFile(options: PgArchiveCommonOptions = {}): { archive: PgArchive; sql: pg.Pool; schema: string } {
  const schema = uniqueSchema();
  let archive: PgArchive | undefined;
  let sql: pg.Pool | undefined;
  beforeAll(async () => {
    sql = inspectionPool();
    archive = createPgArchive({ connectionString: inject('pgUrl'), schema, ...options });
    await archive.migrate();
  });
  afterAll(async () => {
    await archive?.close();
    await sql?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await sql?.end();
  });
  return { archive: lateBound(() => archive, 'the archive'), sql: lateBound(() => sql, 'the inspection pool'), schema };
}

/** A pool of the test's own on the run's database, for looking at rows directly. */
export function inspectionPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: inject('pgUrl'), max: 3 });
  pool.on('error', () => {});
  return pool;
}

export const T0 = 1_700_000_000_000;

export function meta(overrides: Partial<ArchivedMeta> = {}): ArchivedMeta {
  return {
    userId: 'user-1',
    agentId: 'support',
    model: 'gpt-x',
    fields: { locale: 'en' },
    createdAt: T0,
    lastActive: T0 + 1_000,
    turnCount: 0,
    idleTimeoutMs: 3_600_000,
    ...overrides,
  };
}

/** Turns `from`..`to` (inclusive), one second apart from T0, alternating user and assistant. */
export function turns(from: number, to: number): TurnRecord[] {
  const list: TurnRecord[] = [];
  for (let seq = from; seq <= to; seq++) {
    list.push({ kind: 'turn', seq, ts: T0 + seq * 1_000, role: seq % 2 === 1 ? 'user' : 'assistant', content: `turn ${seq}` });
  }
  return list;
}

/** A batch of `turns` with meta saying `turnCount` is the last of them. */
export function turnBatch(sessionId: string, from: number, to: number, overrides: Partial<ArchivedMeta> = {}): ArchiveBatch {
  return { sessionId, meta: meta({ turnCount: to, lastActive: T0 + to * 1_000, ...overrides }), records: turns(from, to) };
}

/** Row counts of one conversation in every table, for "nothing left" and "nothing added" checks. */
export async function rowCounts(sql: pg.Pool, schema: string, id: string): Promise<Record<string, number>> {
  const { rows } = await sql.query<Record<string, string>>(
    `SELECT (SELECT count(*) FROM ${schema}.conversations WHERE id = $1) AS conversations,
            (SELECT count(*) FROM ${schema}.turns WHERE conversation_id = $1) AS turns,
            (SELECT count(*) FROM ${schema}.tool_calls WHERE conversation_id = $1) AS tool_calls,
            (SELECT count(*) FROM ${schema}.notes_versions WHERE conversation_id = $1) AS notes_versions`,
    [id],
  );
  return Object.fromEntries(Object.entries(rows[0] ?? {}).map(([table, count]) => [table, Number(count)]));
}
