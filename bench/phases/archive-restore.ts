import { performance } from 'node:perf_hooks';
import { createClient, type RedisClientType } from 'redis';
import pg from 'pg';
import { connectRedis, createAgentStore, type AgentStore, type RedisConnection } from 'agent-session';
import { createArchiver, createPgArchive, type PgArchive } from 'agent-session/archive';
import { sessionKeys } from '../../src/core/keys.js';
import { DEFAULT_HISTORY, historyTurn, type TurnView } from '../contract.js';
import { JsonRowArchive } from '../harness/json-row-archive.js';
import type { BenchDatabase } from '../harness/postgres.js';
import type { BenchRedis } from '../harness/redis.js';

/**
 * Restore: a 1,000-turn conversation, seeded through the store and the
 * archiver, its Redis keys deleted, then resumed with `store.resume()`
 * (window 50) `runs` times, its keys deleted again between runs; beside it,
 * the same turns restored by the hand-written pattern (harness/
 * json-row-archive.ts). The two alternate run by run, so a noisy moment of
 * the machine falls on both. Timed in this process, as an app would see it.
 */
export interface RestorePart {
  turns: number;
  window: number;
  runs: number;
  /** ms per restore, in the order taken. */
  library: number[];
  handwritten: number[];
  /** The hand-written document: 1,000 turns as JSON text, and as stored (jsonb). */
  document: { jsonBytes: number; storedBytes: number };
  /** Restores whose result was wrong (not restored, or not `window` turns): should be 0. */
  failures: number;
}

const SCHEMA = 'bench_restore';
const HANDWRITTEN_SCHEMA = 'bench_handwritten';
const TURNS = 1_000;
const USER = 'bench-restore-user';
const KEY_PREFIX = 'agent:';
const IDLE_MS = 60 * 60 * 1000;
/** Unrecorded restores of each kind first: pools connected, scripts cached, code paths warm. */
const WARM_UP = 3;
/** Appends in flight at once while seeding (seeding is not measured). */
const SEED_PARALLEL = 50;

export async function runRestore(db: BenchDatabase, redis: BenchRedis, runs: number, progress: (line: string) => void): Promise<RestorePart> {
  await db.migrate(SCHEMA);
  const connection = await connectRedis({ url: redis.url });
  const tier = createPgArchive({ connectionString: db.url, schema: SCHEMA });
  // The hand-written side gets what such an app would have: a plain node-redis client and a pg pool.
  const plain: RedisClientType = createClient({ url: redis.url });
  plain.on('error', () => {});
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on('error', () => {});
  try {
    await plain.connect();
    const store = createAgentStore({ redis: connection, maxTurns: DEFAULT_HISTORY, idleTimeoutMs: IDLE_MS, archive: { tier } });
    const id = await seed(store, connection, tier);
    const turns = await archivedTurns(db, id);
    if (turns.length !== TURNS) throw new Error(`the archive holds ${turns.length} turns of the seeded conversation, not ${TURNS}`);
    const handwritten = new JsonRowArchive(pool, plain, HANDWRITTEN_SCHEMA);
    await handwritten.createTable();
    await handwritten.save(id, turns);
    progress(`cold tier: a ${TURNS}-turn conversation seeded and archived; restoring it ${runs} times each way`);

    const keys = Object.values(sessionKeys(KEY_PREFIX, id));
    const handKey = `bench:hand:{${id}}:turns`;
    const part: RestorePart = {
      turns: TURNS,
      window: DEFAULT_HISTORY,
      runs,
      library: [],
      handwritten: [],
      document: await handwritten.size(id),
      failures: 0,
    };
    const viaLibrary = async () => {
      await redis.client.del(keys);
      const started = performance.now();
      const { restored } = await store.resume(id, { user: USER });
      const ms = performance.now() - started;
      if (!restored || (await redis.client.lLen(sessionKeys(KEY_PREFIX, id).turns)) !== DEFAULT_HISTORY) part.failures += 1;
      return ms;
    };
    const byHand = async () => {
      await redis.client.del(handKey);
      const started = performance.now();
      const written = await handwritten.restore(id, handKey, DEFAULT_HISTORY, IDLE_MS);
      const ms = performance.now() - started;
      if (written !== DEFAULT_HISTORY) part.failures += 1;
      return ms;
    };
    for (let i = 0; i < WARM_UP; i++) {
      await viaLibrary();
      await byHand();
    }
    part.failures = 0;
    for (let run = 0; run < runs; run++) {
      // Alternating which goes first, so neither always follows the other's garbage.
      if (run % 2 === 0) {
        part.library.push(await viaLibrary());
        part.handwritten.push(await byHand());
      } else {
        part.handwritten.push(await byHand());
        part.library.push(await viaLibrary());
      }
    }
    return part;
  } finally {
    await tier.close().catch(() => {});
    await connection.close().catch(() => {});
    await plain.close().catch(() => {});
    await pool.end().catch(() => {});
    await redis.flush();
  }
}

/** Creates the conversation, appends its turns through the store, and archives them with an archiver in this process. */
async function seed(store: AgentStore, connection: RedisConnection, tier: PgArchive): Promise<string> {
  const session = await store.create({ userId: USER, model: 'bench-model' });
  for (let first = 0; first < TURNS; first += SEED_PARALLEL) {
    const batch = Array.from({ length: Math.min(SEED_PARALLEL, TURNS - first) }, (_, offset) => session.appendTurn(historyTurn(first + offset)));
    await Promise.all(batch);
  }
  const archiver = createArchiver({ redis: connection, archive: tier });
  await archiver.drainAll();
  return session.id;
}

async function archivedTurns(db: BenchDatabase, id: string): Promise<TurnView[]> {
  const { rows } = await db.pool.query<{ seq: number; ts: string; role: string; content: string }>(
    `SELECT seq::int AS seq, ts::text AS ts, role, content FROM ${SCHEMA}.turns WHERE conversation_id = $1 ORDER BY seq`,
    [id],
  );
  return rows.map((row) => ({ seq: row.seq, ts: Number(row.ts), role: row.role, content: row.content }));
}
