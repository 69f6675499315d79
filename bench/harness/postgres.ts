import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPgArchive } from 'agent-session/archive';

/**
 * The cold-tier stage's own PostgreSQL database: created on the server at
 * BENCH_PG_URL as agent_session_bench_<random>, dropped (WITH (FORCE): the
 * servers' pools may still hold connections) when the stage ends, whether
 * it succeeded or not. Nothing outside it is touched.
 */
export interface BenchDatabase {
  readonly name: string;
  /** BENCH_PG_URL with this database in place of the server's. */
  readonly url: string;
  /** The runner's own pool on it, for the bench's questions (turn counts) and the hand-written pattern. */
  readonly pool: pg.Pool;
  /** Creates an archive schema and applies the migrations, as an app does once before it starts. */
  migrate(schema: string): Promise<void>;
  /** Idempotent. */
  drop(): Promise<void>;
}

export type DatabaseOutcome = { database: BenchDatabase } | { unavailable: string };

/** Bounds the attempt to reach the server, so an unreachable one skips the stage quickly. */
const CONNECT_TIMEOUT_MS = 5_000;

/** The server's address without credentials, for messages (the URL may hold a password). */
export function describeServer(serverUrl: string): string {
  try {
    const url = new URL(serverUrl);
    return `${url.hostname}:${url.port || '5432'}`;
  } catch {
    return 'an unparsable BENCH_PG_URL';
  }
}

async function asAdmin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => {});
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function createBenchDatabase(serverUrl: string): Promise<DatabaseOutcome> {
  const name = `agent_session_bench_${randomBytes(6).toString('hex')}`;
  try {
    await asAdmin(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
    return { unavailable: `PostgreSQL not available: could not create a database on ${describeServer(serverUrl)} (${reason}); set BENCH_PG_URL to a server where this user may CREATE DATABASE` };
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  pool.on('error', () => {});
  let dropped: Promise<void> | undefined;
  return {
    database: {
      name,
      url: url.toString(),
      pool,
      migrate: async (schema) => {
        const archive = createPgArchive({ connectionString: url.toString(), schema });
        try {
          await archive.migrate();
        } finally {
          await archive.close();
        }
      },
      drop: () =>
        (dropped ??= (async () => {
          await pool.end().catch(() => {});
          await asAdmin(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
        })()),
    },
  };
}
