import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { PoolClient } from 'pg';
import { ConfigError } from '../errors.js';
import type { Tables } from './tables.js';

/**
 * Versioned SQL migrations, shipped as files beside this module
 * (`migrations/NNN_name.sql`; the build copies them into dist/).
 *
 * Each migration runs in a transaction of its own that first takes one
 * fixed advisory lock, then checks the version table, so any number of
 * processes may call migrate() at once: one applies each version, the others
 * wait for it and then find it applied. A migration that fails leaves its
 * version unapplied and nothing of it behind.
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** "AGSESSMG" as a 64-bit integer: the advisory lock every migrate() of every schema takes. */
export const MIGRATION_LOCK_KEY = '4703819893027589447';

const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;
const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

/** Reads the migration files, in version order; versions must run 1, 2, 3... without gaps. */
export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    names = [];
  }
  const migrations: Migration[] = [];
  for (const file of names.sort()) {
    const match = FILE_NAME.exec(file);
    if (!match) continue;
    const [, version, name] = match as unknown as [string, string, string];
    migrations.push({ version: Number(version), name, sql: await readFile(new URL(file, dir), 'utf8') });
  }
  if (migrations.length === 0) {
    throw new ConfigError(
      `No archive migrations found in ${fileURLToPath(dir)}: the package was built without copying its .sql files ` +
        '(the build runs scripts/copy-assets.mjs after tsc). Reinstall agent-session or rebuild it.',
    );
  }
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new ConfigError(`Archive migration versions must run 1, 2, 3... without gaps; found ${migration.version} at position ${index + 1}.`);
    }
  });
  return migrations;
}

/** Applies every migration not applied yet, one transaction each; returns the versions this call applied. */
export async function applyMigrations(client: PoolClient, tables: Tables, schemaName: string, migrations: readonly Migration[]): Promise<number[]> {
  const applied: number[] = [];
  for (const migration of migrations) {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    // Under the lock, so two first runs cannot race to create the schema.
    // Checked before CREATE so that a user without CREATE on the database
    // can still migrate a schema an administrator made for it.
    const schema = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schemaName]);
    if (schema.rowCount === 0) await client.query(`CREATE SCHEMA ${tables.schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${tables.migrations} (
         version    integer     PRIMARY KEY,
         name       text        NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const done = await client.query(`SELECT 1 FROM ${tables.migrations} WHERE version = $1`, [migration.version]);
    if (done.rowCount === 0) {
      // The files name their tables unqualified; DDL may take longer than
      // the pool's statement timeout, which guards ordinary queries.
      await client.query(`SET LOCAL search_path TO ${tables.schema}; SET LOCAL statement_timeout = 0`);
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${tables.migrations} (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
  }
  return applied;
}
