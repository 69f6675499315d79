import { performance } from 'node:perf_hooks';
import { ARCHIVE_SERVER } from '../catalog.js';
import { DEFAULT_HISTORY } from '../contract.js';
import { startArchiver, type ArchiverProcess } from '../harness/archiver.js';
import { BACKLOG_POLL_MS, backlogEntries, waitForEmptyBacklog } from '../harness/backlog.js';
import { drive, type LoadResult } from '../harness/load.js';
import type { BenchDatabase } from '../harness/postgres.js';
import { serverFile, startServer, type ServerProcess } from '../harness/processes.js';
import type { BenchRedis } from '../harness/redis.js';
import { login, turnCount } from '../harness/sessions.js';

/**
 * Archive throughput against the append rate, on server 3a (Express +
 * agent-session with the cold tier) and one archiver process with the
 * library's defaults. Each round, on a fresh session of its own:
 * - stopped: the append scenario (one session, all connections) runs with
 *   the archiver stopped; then the archiver starts and the bench times how
 *   long the backlog takes to return to zero. Archived turns/s is the turns
 *   the archive gained over that time; the ratio to the append req/s says
 *   how far the archiver outpaces one server process.
 * - concurrent: the same load with the archiver running; the backlog left
 *   when the load ends, and the time from then to zero.
 * One session is the archiver's slowest case: a session's backlog is drained
 * by one archiver lane, a batch after another (other lanes serve other
 * sessions).
 */
export interface StoppedRound {
  appends: number;
  appendRps: number;
  appendP99: number;
  /** Backlog entries waiting when the archiver started (the seeded history, the load, the create entry). */
  backlog: number;
  archivedTurns: number;
  /** From the start command to the first poll that saw an empty backlog; undefined: not empty within the bound. */
  drainMs?: number;
  archivedPerSecond: number;
  /** CPU of the archiver process per archived turn (µs). */
  archiverCpuUsPerTurn?: number;
  /** PostgreSQL transactions the archiver wrote during the drain (one per batch). */
  batches: number;
}

export interface ConcurrentRound {
  appends: number;
  appendRps: number;
  appendP99: number;
  /** Backlog entries left when the last append was answered. */
  backlogAtEnd: number;
  /** From the end of the load to an empty backlog; undefined: not empty within the bound. */
  toZeroMs?: number;
}

export interface ThroughputPart {
  appendsPerLoad: number;
  connections: number;
  maxBacklog: number;
  pollMs: number;
  stopped: StoppedRound[];
  concurrent: ConcurrentRound[];
  /** Every appended turn in the archive once: per session, turns 1..turnCount with no gap and no extra; `mismatched` sessions otherwise. */
  check: { sessions: number; expectedTurns: number; archivedTurns: number; conversations: number; mismatched: number };
}

export interface ThroughputOptions {
  appends: number;
  rounds: number;
  connections: number;
  warmup: number;
  progress: (line: string) => void;
}

const SCHEMA = 'bench_throughput';
/**
 * Raised from the default 10,000 per session for this stage: with the
 * archiver stopped, one session receives every append of a load, and the
 * default bound would refuse them before the drain is timed. The bound is
 * checked with one LLEN in the append script whatever its value.
 */
export const BENCH_MAX_BACKLOG = 1_000_000;
const DRAIN_TIMEOUT_MS = 180_000;
const KEY_PREFIX = 'agent:';

export async function runThroughput(db: BenchDatabase, redis: BenchRedis, options: ThroughputOptions): Promise<ThroughputPart> {
  await db.migrate(SCHEMA);
  const env = {
    REDIS_URL: redis.url,
    BENCH_WINDOW: String(DEFAULT_HISTORY),
    BENCH_PG_URL: db.url,
    BENCH_PG_SCHEMA: SCHEMA,
    BENCH_MAX_BACKLOG: String(BENCH_MAX_BACKLOG),
  };
  let server: ServerProcess | undefined;
  let archiver: ArchiverProcess | undefined;
  try {
    [server, archiver] = await Promise.all([startServer(serverFile(ARCHIVE_SERVER.file), env), startArchiver(env)]);
    const cookies: string[] = [];
    const session = async (name: string) => {
      const cookie = await login(server!.url, { userId: `bench-archive-${name}`, turns: DEFAULT_HISTORY });
      cookies.push(cookie);
      return cookie;
    };
    const load = (cookie: string, amount: number) =>
      drive({ url: server!.url, scenario: 'append', cookies: [cookie], connections: options.connections, amount });

    // Unrecorded: the server's JIT and script cache, and the archiver's first batches and pool.
    const warm = await session('warm-up');
    await drive({ url: server.url, scenario: 'append', cookies: [warm], connections: options.connections, duration: options.warmup });
    await archiver.start();
    await waitForEmptyBacklog(redis.client, KEY_PREFIX, performance.now(), DRAIN_TIMEOUT_MS);
    await archiver.stop();

    const part: ThroughputPart = {
      appendsPerLoad: options.appends,
      connections: options.connections,
      maxBacklog: BENCH_MAX_BACKLOG,
      pollMs: BACKLOG_POLL_MS,
      stopped: [],
      concurrent: [],
      check: { sessions: 0, expectedTurns: 0, archivedTurns: 0, conversations: 0, mismatched: 0 },
    };
    for (let round = 1; round <= options.rounds; round++) {
      const stopped = await stoppedRound(await session(`stopped-${round}`), load, archiver, db, redis, options.appends);
      part.stopped.push(stopped);
      options.progress(
        `cold tier, round ${round}/${options.rounds}: ${stopped.appends} appends at ${Math.round(stopped.appendRps)} req/s with the archiver stopped; ` +
          `backlog of ${stopped.backlog} drained in ${fixed(stopped.drainMs)} ms = ${Math.round(stopped.archivedPerSecond)} turns/s`,
      );
      const concurrent = await concurrentRound(await session(`concurrent-${round}`), load, archiver, redis, options.appends);
      part.concurrent.push(concurrent);
      options.progress(
        `cold tier, round ${round}/${options.rounds}: ${concurrent.appends} appends at ${Math.round(concurrent.appendRps)} req/s with the archiver running; ` +
          `backlog ${concurrent.backlogAtEnd} at the end of the load, zero ${fixed(concurrent.toZeroMs)} ms later`,
      );
    }
    part.check = await exactlyOnce(db, server.url, cookies);
    return part;
  } finally {
    await Promise.all([server?.stop(), archiver?.process.stop()]);
    await redis.flush();
  }
}

const fixed = (ms: number | undefined) => (ms === undefined ? 'never (timed out)' : ms.toFixed(0));

type Load = (cookie: string, amount: number) => Promise<LoadResult>;

async function stoppedRound(cookie: string, load: Load, archiver: ArchiverProcess, db: BenchDatabase, redis: BenchRedis, amount: number): Promise<StoppedRound> {
  const appended = await load(cookie, amount);
  const backlog = await backlogEntries(redis.client, KEY_PREFIX);
  const turnsBefore = await archivedTurns(db);
  const cpuBefore = archiver.cpuSeconds();
  const started = performance.now();
  const statsBefore = await archiver.start();
  const drainMs = await waitForEmptyBacklog(redis.client, KEY_PREFIX, started, DRAIN_TIMEOUT_MS);
  const cpuAfter = archiver.cpuSeconds();
  const archived = (await archivedTurns(db)) - turnsBefore;
  // Stopped again until the concurrent round starts it.
  const statsAfter = await archiver.stop();
  const round: StoppedRound = {
    appends: appended.ok,
    appendRps: appended.rps,
    appendP99: appended.p99,
    backlog,
    archivedTurns: archived,
    archivedPerSecond: drainMs === undefined ? Number.NaN : archived / (drainMs / 1000),
    batches: statsAfter.batches - statsBefore.batches,
  };
  if (drainMs !== undefined) round.drainMs = drainMs;
  if (cpuBefore !== undefined && cpuAfter !== undefined && archived > 0) round.archiverCpuUsPerTurn = ((cpuAfter - cpuBefore) * 1e6) / archived;
  return round;
}

async function concurrentRound(cookie: string, load: Load, archiver: ArchiverProcess, redis: BenchRedis, amount: number): Promise<ConcurrentRound> {
  await archiver.start();
  try {
    const appended = await load(cookie, amount);
    const ended = performance.now();
    const backlogAtEnd = await backlogEntries(redis.client, KEY_PREFIX);
    const toZeroMs = await waitForEmptyBacklog(redis.client, KEY_PREFIX, ended, DRAIN_TIMEOUT_MS);
    const round: ConcurrentRound = { appends: appended.ok, appendRps: appended.rps, appendP99: appended.p99, backlogAtEnd };
    if (toZeroMs !== undefined) round.toZeroMs = toZeroMs;
    return round;
  } finally {
    await archiver.stop();
  }
}

async function archivedTurns(db: BenchDatabase): Promise<number> {
  const { rows } = await db.pool.query<{ turns: number }>(`SELECT count(*)::int AS turns FROM ${SCHEMA}.turns`);
  return rows[0]?.turns ?? 0;
}

/**
 * Compares the archive with the turn count Redis gave each session (its last
 * seq): each conversation must hold exactly seqs 1..turnCount. Conversations
 * are matched to sessions by their counts (the bench does not see the agent
 * session ids behind the cookies).
 */
async function exactlyOnce(db: BenchDatabase, url: string, cookies: string[]): Promise<ThroughputPart['check']> {
  const counts = await Promise.all(cookies.map((cookie) => turnCount(url, cookie)));
  const { rows } = await db.pool.query<{ turns: number; low: number; high: number }>(
    `SELECT count(*)::int AS turns, min(seq)::int AS low, max(seq)::int AS high FROM ${SCHEMA}.turns GROUP BY conversation_id`,
  );
  // A conversation with a gap (or, were the primary key not there, a repeated seq) matches no session.
  const archived = rows.map((row) => (row.low === 1 && row.turns === row.high ? row.turns : -1)).sort((a, b) => a - b);
  const expected = [...counts].sort((a, b) => a - b);
  let mismatched = Math.abs(archived.length - expected.length);
  for (let index = 0; index < Math.min(archived.length, expected.length); index++) if (archived[index] !== expected[index]) mismatched += 1;
  return {
    sessions: cookies.length,
    expectedTurns: counts.reduce((sum, count) => sum + count, 0),
    archivedTurns: rows.reduce((sum, row) => sum + row.turns, 0),
    conversations: rows.length,
    mismatched,
  };
}
