import { ARCHIVE_SERVER, serverById } from '../catalog.js';
import { DEFAULT_HISTORY, SCENARIOS } from '../contract.js';
import type { CommandLog } from '../harness/command-log.js';
import { measureCells, type CellResult, type MeasureOptions, type Target } from '../harness/measure.js';
import type { BenchDatabase } from '../harness/postgres.js';
import { serverFile, startServer } from '../harness/processes.js';
import type { BenchRedis } from '../harness/redis.js';
import { login } from '../harness/sessions.js';
import { BENCH_MAX_BACKLOG } from './archive-throughput.js';

/**
 * The request path with the cold tier on: server 3, server 3a (the same app
 * with `archive: { tier }`) and a second process of server 3 (the control)
 * under read, append and touch, in interleaved rounds. The control measures
 * the noise directly: two identical servers measured the same way differ by
 * that much, so a 3a ÷ 3 ratio closer to 1 than 3′ ÷ 3 is within noise.
 * In each round the three of a scenario run one right after the other, in an
 * order that rotates from round to round (each takes each position once in
 * three rounds), so that neither the machine's drift nor the position in a
 * round favours one.
 *
 * No archiver runs: this is the request path alone (the throughput part
 * measures appends with the archiver beside them). 3a's appends pile up in
 * its backlog meanwhile, under a raised bound (see BENCH_MAX_BACKLOG).
 *
 * The archive's only extra command on the request path is the occasional
 * announcement of a session to the archiver (EVALSHA
 * agent-session:archive-register: at most once per session, process and
 * registerEveryMs). Its ZADD is the only one on this Redis, so INFO
 * commandstats counts the announcements of the whole part exactly.
 */
export type PathRole = 'without' | 'with' | 'control';

export interface PathPart {
  cells: Array<{ role: PathRole; result: CellResult }>;
  rounds: number;
  /** Announcements (archive-register calls) during the part, and how long the part took. */
  announcements: number;
  seconds: number;
}

const ROLES: PathRole[] = ['without', 'with', 'control'];
/** Three rounds put each server once in each position of a scenario's three runs. */
const MIN_ROUNDS = 3;
const SCHEMA = 'bench_path';

export async function runPath(db: BenchDatabase, redis: BenchRedis, log: CommandLog, options: MeasureOptions): Promise<PathPart> {
  await db.migrate(SCHEMA);
  const base = { REDIS_URL: redis.url, BENCH_WINDOW: String(DEFAULT_HISTORY) };
  const archiveEnv = { ...base, BENCH_PG_URL: db.url, BENCH_PG_SCHEMA: SCHEMA, BENCH_MAX_BACKLOG: String(BENCH_MAX_BACKLOG) };
  const three = serverById('3');
  const launches = {
    without: { spec: three, env: base, tag: undefined },
    with: { spec: ARCHIVE_SERVER, env: archiveEnv, tag: undefined },
    control: { spec: three, env: base, tag: 'control' },
  };
  const servers = await Promise.all(ROLES.map((role) => startServer(serverFile(launches[role].spec.file), launches[role].env)));
  try {
    const started = Date.now();
    const before = await redis.commandStats();
    const targets: Target[] = [];
    for (const [index, role] of ROLES.entries()) {
      const { spec, tag } = launches[role];
      const server = servers[index]!;
      const cookie = await login(server.url, { userId: `bench-path-${role}`, turns: DEFAULT_HISTORY });
      targets.push({ spec, server, cookies: [cookie], rotate: false, ...(tag ? { tag } : {}) });
    }
    const rounds = Math.max(options.rounds, MIN_ROUNDS);
    // Cell index = scenario * 3 + role, so a scenario's three runs are neighbours.
    const cells = SCENARIOS.flatMap((scenario) => targets.map((target) => ({ target, scenario, checkAppends: scenario === 'append' })));
    const order = (round: number) =>
      SCENARIOS.flatMap((_, s) => {
        const scenario = (s + round) % SCENARIOS.length;
        return ROLES.map((__, position) => scenario * ROLES.length + ((position + round) % ROLES.length));
      });
    const results = await measureCells(cells, redis, log, { ...options, rounds, order });
    const after = await redis.commandStats();
    return {
      cells: results.map((result, index) => ({ role: ROLES[index % ROLES.length]!, result })),
      rounds,
      announcements: (after.get('zadd') ?? 0) - (before.get('zadd') ?? 0),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await redis.flush();
  }
}
