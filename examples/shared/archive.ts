import { createPgArchive, type PgArchive } from 'agent-session/archive';

/**
 * The example servers' archive: PostgreSQL at `connectionString`, its schema
 * brought up to date (migrate() is idempotent and safe to run from several
 * processes at once, so every server and the archiver may call it at start).
 * Only loaded when DATABASE_URL is set (see cold-tier.ts), so the examples
 * run without `pg` installed otherwise.
 */
export async function openArchive(connectionString: string): Promise<PgArchive> {
  const archive = createPgArchive({ connectionString });
  try {
    await archive.migrate();
  } catch (error) {
    await archive.close();
    throw error;
  }
  return archive;
}
