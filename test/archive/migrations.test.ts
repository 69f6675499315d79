import { afterAll, describe, expect, inject, it } from 'vitest';
import { createPgArchive, type PgArchive } from 'agent-session/archive';
import { ConfigError } from 'agent-session';
import { applyMigrations, loadMigrations } from '../../src/archive/migrations.js';
import { tablesIn } from '../../src/archive/tables.js';
import { inspectionPool, uniqueSchema } from './support.js';

const sql = inspectionPool();
const archives: PgArchive[] = [];
const schemas: string[] = [];

function freshArchive(schema = uniqueSchema()): PgArchive {
  schemas.push(schema);
  const archive = createPgArchive({ connectionString: inject('pgUrl'), schema });
  archives.push(archive);
  return archive;
}

afterAll(async () => {
  await Promise.all(archives.map((archive) => archive.close()));
  for (const schema of schemas) await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await sql.end();
});

async function appliedVersions(schema: string): Promise<number[]> {
  const { rows } = await sql.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
  return rows.map((row) => row.version);
}

describe('migrations', () => {
  it('ship as numbered files, versions 1, 2, 3... without gaps', async () => {
    const migrations = await loadMigrations();
    expect(migrations.length).toBeGreaterThan(0);
    expect(migrations.map((migration) => migration.version)).toEqual(migrations.map((_, index) => index + 1));
    expect(migrations[0]?.name).toBe('init');
  });

  it('five processes migrating a fresh database at once apply each version exactly once', async () => {
    const schema = uniqueSchema();
    // Five archives (five pools, like five processes) on one schema that does not exist yet.
    const five = Array.from({ length: 5 }, () => freshArchive(schema));
    const outcomes = await Promise.allSettled(five.map((archive) => archive.migrate()));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(5).fill('fulfilled'));

    const expected = (await loadMigrations()).map((migration) => migration.version);
    expect(await appliedVersions(schema)).toEqual(expected);
    const { rows } = await sql.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [schema],
    );
    expect(rows.map((row) => row.table_name)).toEqual(['conversations', 'erasures', 'notes_versions', 'schema_migrations', 'tool_calls', 'turns']);
  });

  it('is idempotent: migrating again applies nothing and leaves the record of the first run', async () => {
    const schema = uniqueSchema();
    const archive = freshArchive(schema);
    await archive.migrate();
    const before = await sql.query(`SELECT version, applied_at FROM ${schema}.schema_migrations ORDER BY version`);
    await archive.migrate();
    await freshArchive(schema).migrate();
    const after = await sql.query(`SELECT version, applied_at FROM ${schema}.schema_migrations ORDER BY version`);
    expect(after.rows).toEqual(before.rows);
  });

  it('creates the keys and indexes the queries rely on', async () => {
    const schema = uniqueSchema();
    await freshArchive(schema).migrate();
    const { rows } = await sql.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname`,
      [schema],
    );
    const definitions = Object.fromEntries(rows.map((row) => [row.indexname, row.indexdef.replace(/^.* USING btree /, '')]));
    expect(definitions).toMatchObject({
      conversations_pkey: '(id)',
      conversations_by_user_recent: '(user_id, last_active DESC, id DESC) WHERE (user_id IS NOT NULL)',
      conversations_by_last_active: '(last_active)',
      turns_pkey: '(conversation_id, seq)',
      turns_by_time: '(conversation_id, ts)',
      tool_calls_pkey: '(conversation_id, call_id)',
      notes_versions_pkey: '(conversation_id, covers_through_seq, written_at)',
      erasures_pkey: '(conversation_id)',
    });
  });

  it('applies each migration in a transaction of its own: a failing one leaves nothing of itself and stops the run', async () => {
    const schema = uniqueSchema();
    schemas.push(schema);
    const migrations = [
      { version: 1, name: 'good', sql: 'CREATE TABLE kept (id int)' },
      { version: 2, name: 'bad', sql: 'CREATE TABLE half_done (id int); SELECT no_such_function()' },
      { version: 3, name: 'never', sql: 'CREATE TABLE never_reached (id int)' },
    ];
    const client = await sql.connect();
    try {
      await expect(applyMigrations(client, tablesIn(schema), schema, migrations)).rejects.toThrow(/no_such_function/);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await appliedVersions(schema)).toEqual([1]);
    const { rows } = await sql.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [schema],
    );
    expect(rows.map((row) => row.table_name)).toEqual(['kept', 'schema_migrations']);
  });

  it('refuses a schema name that is not a plain lower-case identifier', () => {
    for (const schema of ['Agent', 'a-b', 'a;drop', '1abc', 'pg_mine', '', 'x'.repeat(64)]) {
      expect(() => createPgArchive({ connectionString: inject('pgUrl'), schema })).toThrow(ConfigError);
    }
    expect(() => createPgArchive({ connectionString: inject('pgUrl'), schema: 'a;drop' })).toThrow(/`schema`/);
  });
});
