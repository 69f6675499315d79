import { missing, serverById, type ServerId, type ServerSpec } from '../catalog.js';
import type { BenchConfig } from '../config.js';
import { DEFAULT_HISTORY, type Scenario } from '../contract.js';
import type { CommandLog } from '../harness/command-log.js';
import { measureCells, type Cell, type CellResult, type MeasureOptions, type Target } from '../harness/measure.js';
import { serverFile, startServer, type ServerProcess } from '../harness/processes.js';
import type { BenchRedis } from '../harness/redis.js';
import { loginMany } from '../harness/sessions.js';

/**
 * Cost as the work grows, on Express:
 * - history: append and read on one session with 10, 100, 1000 turns, the
 *   window raised to match, for agent-session and for the peer (whose
 *   whole-session rewrite grows with the history). All of these servers run
 *   side by side and are measured in interleaved rounds.
 * - live sessions: agent-session with 1, then 100, then 10,000 sessions of
 *   50 turns in Redis, requests spread round-robin over all of them. The
 *   sessions are added between stages, so each stage's Redis holds exactly
 *   that many; stages are therefore measured one after the other.
 */
export interface GrowthCell {
  history: number;
  sessions: number;
  result: CellResult;
}

export interface GrowthPhase {
  history: GrowthCell[];
  sessions: GrowthCell[];
  notes: string[];
}

const HISTORY_SERVERS: ServerId[] = ['3', '2'];
const SESSIONS_SERVER: ServerId = '3';
const GROWTH_SCENARIOS: Scenario[] = ['append', 'read'];
/** Above this many logins, a second process of the server helps seed (it is CPU-bound on one core). */
const HELPER_ABOVE = 1_000;

type Progress = (line: string) => void;

export async function runGrowth(config: BenchConfig, redis: BenchRedis, log: CommandLog, progress: Progress): Promise<GrowthPhase> {
  const notes: string[] = [];
  const usable = (ids: ServerId[]) =>
    ids.map(serverById).filter((spec) => {
      const reason = missing(spec);
      if (reason) notes.push(`${spec.id} (${spec.label}) skipped in the growth stages: ${reason}.`);
      return !reason;
    });
  const options: MeasureOptions = {
    rounds: config.rounds,
    duration: config.growthDuration,
    warmup: config.warmup,
    connections: config.connections,
    profileRequests: config.profileRequests,
    progress,
  };
  const history = config.histories.length > 0 ? await historyGrowth(usable(HISTORY_SERVERS), config.histories, redis, log, options) : [];
  const [sessionsSpec] = config.sessions.length > 0 ? usable([SESSIONS_SERVER]) : [];
  const sessions = sessionsSpec ? await sessionGrowth(sessionsSpec, config.sessions, redis, log, options) : [];
  return { history, sessions, notes: [...new Set(notes)] };
}

const tagOf = (history: number, sessions: number) => `${history} turns, ${sessions} session${sessions === 1 ? '' : 's'}`;

function cellsFor(target: Target, checkAppends: boolean): Cell[] {
  return GROWTH_SCENARIOS.map((scenario) => ({ target, scenario, checkAppends: checkAppends && scenario === 'append' }));
}

async function historyGrowth(specs: ServerSpec[], histories: number[], redis: BenchRedis, log: CommandLog, options: MeasureOptions): Promise<GrowthCell[]> {
  const servers: ServerProcess[] = [];
  try {
    const stages: Array<{ history: number; target: Target }> = [];
    for (const spec of specs) {
      for (const history of histories) {
        const server = await startServer(serverFile(spec.file), { REDIS_URL: redis.url, BENCH_WINDOW: String(history) });
        servers.push(server);
        const cookies = await loginMany([server.url], 1, history);
        stages.push({ history, target: { spec, server, cookies, rotate: false, tag: tagOf(history, 1) } });
        options.progress(`${spec.id.padEnd(3)} ${tagOf(history, 1)}: logged in`);
      }
    }
    const results = await measureCells(stages.flatMap(({ target }) => cellsFor(target, true)), redis, log, options);
    return results.map((result) => ({
      history: stages.find(({ target }) => target === result.cell.target)!.history,
      sessions: 1,
      result,
    }));
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await redis.flush();
  }
}

async function sessionGrowth(spec: ServerSpec, sizes: number[], redis: BenchRedis, log: CommandLog, options: MeasureOptions): Promise<GrowthCell[]> {
  const env = { REDIS_URL: redis.url, BENCH_WINDOW: String(DEFAULT_HISTORY) };
  const server = await startServer(serverFile(spec.file), env);
  const cells: GrowthCell[] = [];
  try {
    const cookies: string[] = [];
    for (const size of [...sizes].sort((a, b) => a - b)) {
      const started = Date.now();
      await seed(spec, server, cookies, size - cookies.length, env);
      options.progress(`${spec.id.padEnd(3)} ${tagOf(DEFAULT_HISTORY, size)} in Redis (seeded in ${Date.now() - started} ms)`);
      // Every size takes the next cookie per request (1 included), so the client's work is the same.
      const target: Target = { spec, server, cookies: [...cookies], rotate: true, tag: tagOf(DEFAULT_HISTORY, size) };
      const results = await measureCells(cellsFor(target, size === 1), redis, log, options);
      cells.push(...results.map((result) => ({ history: DEFAULT_HISTORY, sessions: size, result })));
    }
    return cells;
  } finally {
    await server.stop();
    await redis.flush();
  }
}

/** Logs in `count` more users, with a helper process of the same server when there are many. */
async function seed(spec: ServerSpec, server: ServerProcess, cookies: string[], count: number, env: Record<string, string>): Promise<void> {
  if (count <= 0) return;
  const helper = count > HELPER_ABOVE ? await startServer(serverFile(spec.file), env) : undefined;
  try {
    cookies.push(...(await loginMany(helper ? [server.url, helper.url] : [server.url], count, DEFAULT_HISTORY, cookies.length)));
  } finally {
    await helper?.stop();
  }
}
