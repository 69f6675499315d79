import type { ServerSpec } from '../catalog.js';
import type { Scenario } from '../contract.js';
import type { CommandLog, CommandProfile } from './command-log.js';
import { cpuSeconds } from './cpu.js';
import { drive, requestOnce, type LoadResult } from './load.js';
import type { ServerProcess } from './processes.js';
import { callsBetween, type BenchRedis } from './redis.js';
import { turnCount } from './sessions.js';

/**
 * Measures a set of cells (a server, its logged-in sessions, a scenario) in
 * interleaved rounds: profile each cell's Redis commands, warm each up, then
 * run round 1 of every cell, round 2 of every cell, ... so that a noisy
 * moment on a shared machine hits all servers alike rather than one.
 */
export interface Target {
  spec: ServerSpec;
  server: ServerProcess;
  /** Cookies of the sessions the load goes to. */
  cookies: string[];
  /** See LoadOptions.rotate. */
  rotate: boolean;
  /** Tells cells of one server apart in progress lines, e.g. "1000 turns". */
  tag?: string;
}

export interface Cell {
  target: Target;
  scenario: Scenario;
  /** Compare the turns the store counts with the successful appends (single-session append cells). */
  checkAppends: boolean;
}

/** One measured run: what autocannon saw, plus what Redis and the processes spent on it. */
export interface Sample extends LoadResult {
  /** Commands Redis ran per request (INFO commandstats), script-internal ones included. */
  redisCallsPerRequest: number;
  /** CPU time of the server process per request, in µs (from /proc). */
  nodeCpuUsPerRequest?: number;
  /** CPU time of redis-server per request, in µs (from /proc): command time plus network I/O. */
  redisCpuUsPerRequest?: number;
  /** Time Redis spent running scripts per request, in µs (INFO commandstats, EVALSHA's usec). */
  redisScriptUsPerRequest: number;
  /** For append cells: turns the store gained, beside `ok`. */
  storedAppends?: number;
}

export interface CellResult {
  cell: Cell;
  profile: CommandProfile;
  /** Requests per second seen during the warm-up; sizes each measured run. */
  warmupRps: number;
  samples: Sample[];
}

export interface MeasureOptions {
  rounds: number;
  /** Target seconds per measured run. */
  duration: number;
  warmup: number;
  connections: number;
  profileRequests: number;
  /** Called with a line of progress after each run. */
  progress(line: string): void;
  /**
   * The order of the cells (indexes into the list given) in round `round`;
   * default: the list rotated by an equal step each round, so no cell always
   * runs first or last.
   */
  order?: (round: number, count: number) => number[];
}

/** Pause after a timed run, for the requests it left in flight to finish. */
const SETTLE_MS = 300;

export function cellName(cell: Cell): string {
  const { spec, tag } = cell.target;
  return `${spec.id}${tag ? ` (${tag})` : ''} ${cell.scenario}`;
}

export async function measureCells(cells: Cell[], redis: BenchRedis, log: CommandLog, options: MeasureOptions): Promise<CellResult[]> {
  // Profiles first, while nothing else runs: a load run leaves requests in
  // flight behind it, whose commands would land in the next profile.
  const profiles: CommandProfile[] = [];
  for (const cell of cells) {
    const { server, cookies } = cell.target;
    let next = 0;
    const send = () => requestOnce(server.url, cell.scenario, cookies[next++ % cookies.length] ?? '');
    // Two unrecorded requests load the scripts into Redis's cache (the first call of each is an EVAL).
    await send();
    await send();
    profiles.push(await log.profile(options.profileRequests, send));
  }

  const results: CellResult[] = [];
  for (const [index, cell] of cells.entries()) {
    results.push({ cell, profile: profiles[index]!, warmupRps: await warmUp(cell, options), samples: [] });
  }

  for (let round = 0; round < options.rounds; round++) {
    const offset = Math.floor((round * results.length) / Math.max(options.rounds, 1));
    const order = options.order?.(round, results.length) ?? results.map((_, index) => (index + offset) % results.length);
    for (const index of order) {
      const result = results[index] as CellResult;
      const amount = Math.max(options.connections * 4, Math.round(result.warmupRps * options.duration));
      const sample = await measureOne(result.cell, amount, redis, options.connections);
      result.samples.push(sample);
      options.progress(
        `round ${round + 1}/${options.rounds}  ${cellName(result.cell).padEnd(24)} ${Math.round(sample.rps).toString().padStart(6)} req/s  ` +
          `p99 ${sample.p99.toFixed(1)} ms${sample.non2xx + sample.errors > 0 ? `  (${sample.non2xx} non-2xx, ${sample.errors} errors)` : ''}`,
      );
    }
  }
  return results;
}

/**
 * Unrecorded load for at least `warmup` seconds and until every connection
 * has had an answer (a slow server needs longer); returns the rate seen.
 */
async function warmUp(cell: Cell, options: MeasureOptions): Promise<number> {
  const { server, cookies } = cell.target;
  let responses = 0;
  let ok = 0;
  let seconds = 0;
  for (let attempt = 0; attempt < 5 && responses < options.connections; attempt++) {
    const run = await drive({ ...load(cell, options.connections), duration: options.warmup });
    responses += run.completed;
    ok += run.ok;
    seconds += run.seconds;
  }
  if (ok === 0) throw new Error(`${cellName(cell)}: no successful response during warm-up.\n${server.stderr()}`);
  // A timed run stops with requests in flight: wait until the server answers
  // a fresh request (its backlog is done) before anything is counted.
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  await requestOnce(server.url, 'read', cookies[0] ?? '');
  return responses / seconds;
}

function load(cell: Cell, connections: number) {
  return {
    url: cell.target.server.url,
    scenario: cell.scenario,
    cookies: cell.target.cookies,
    rotate: cell.target.rotate,
    connections,
  };
}

async function measureOne(cell: Cell, amount: number, redis: BenchRedis, connections: number): Promise<Sample> {
  const { server, cookies } = cell.target;
  const firstCookie = cookies[0] ?? '';
  const turnsBefore = cell.checkAppends ? await turnCount(server.url, firstCookie) : 0;
  const statsBefore = await redis.commandStats();
  const scriptBefore = await redis.scriptMicros();
  const nodeBefore = cpuSeconds(server.pid);
  const redisBefore = cpuSeconds(redis.pid);

  const result = await drive({ ...load(cell, connections), amount });

  const nodeAfter = cpuSeconds(server.pid);
  const redisAfter = cpuSeconds(redis.pid);
  const calls = callsBetween(statsBefore, await redis.commandStats());
  const scriptUs = (await redis.scriptMicros()) - scriptBefore;
  const turnsAfter = cell.checkAppends ? await turnCount(server.url, firstCookie) : 0;

  const perRequest = (total: number) => total / Math.max(result.completed, 1);
  const cpuPerRequest = (before?: number, after?: number) =>
    before === undefined || after === undefined ? undefined : perRequest((after - before) * 1e6);
  const sample: Sample = {
    ...result,
    redisCallsPerRequest: perRequest(calls),
    redisScriptUsPerRequest: perRequest(scriptUs),
    nodeCpuUsPerRequest: cpuPerRequest(nodeBefore, nodeAfter),
    redisCpuUsPerRequest: cpuPerRequest(redisBefore, redisAfter),
  };
  if (cell.checkAppends) sample.storedAppends = turnsAfter - turnsBefore;
  return sample;
}
