import { missing, SERVERS, type ServerId, type ServerSpec } from '../catalog.js';
import type { BenchConfig } from '../config.js';
import { DEFAULT_HISTORY, SCENARIOS } from '../contract.js';
import { normaliseKey, type CommandLog } from '../harness/command-log.js';
import { measureCells, type Cell, type CellResult, type Target } from '../harness/measure.js';
import { serverFile, startServer } from '../harness/processes.js';
import type { BenchRedis } from '../harness/redis.js';
import { login } from '../harness/sessions.js';

/**
 * The main comparison: every available server, each with one user logged in
 * on a 50-turn history, under read, append and touch, in interleaved rounds.
 * Also weighs each server's session in Redis right after login.
 */
export interface SessionMemory {
  server: ServerId;
  bytes: number;
  keys: Array<{ key: string; bytes: number }>;
}

export interface ComparePhase {
  cells: CellResult[];
  memory: SessionMemory[];
  skipped: Array<{ server: ServerId; reason: string }>;
}

export async function runComparison(config: BenchConfig, redis: BenchRedis, log: CommandLog, progress: (line: string) => void): Promise<ComparePhase> {
  const skipped: ComparePhase['skipped'] = [];
  const specs: ServerSpec[] = [];
  for (const spec of SERVERS.filter((candidate) => config.servers.includes(candidate.id))) {
    const reason = missing(spec);
    if (reason) skipped.push({ server: spec.id, reason });
    else specs.push(spec);
  }

  const env = { REDIS_URL: redis.url, BENCH_WINDOW: String(DEFAULT_HISTORY) };
  const servers = await Promise.all(specs.map((spec) => startServer(serverFile(spec.file), env)));
  try {
    const targets: Target[] = [];
    const memory: SessionMemory[] = [];
    for (const [index, spec] of specs.entries()) {
      const server = servers[index]!;
      // One login at a time, so the keys that appear are this session's.
      const before = await redis.keys();
      const cookie = await login(server.url, { userId: `bench-user-${spec.id}`, turns: DEFAULT_HISTORY });
      const added = [...(await redis.keys())].filter((key) => !before.has(key));
      if (spec.role !== 'ceiling') memory.push(await weigh(redis, spec.id, added));
      targets.push({ spec, server, cookies: [cookie], rotate: false });
      progress(`${spec.id.padEnd(3)} ${spec.label}: up on ${server.url}, logged in`);
    }

    const cells: Cell[] = targets.flatMap((target) =>
      SCENARIOS.map((scenario) => ({ target, scenario, checkAppends: scenario === 'append' })),
    );
    const results = await measureCells(cells, redis, log, {
      rounds: config.rounds,
      duration: config.duration,
      warmup: config.warmup,
      connections: config.connections,
      profileRequests: config.profileRequests,
      progress,
    });
    return { cells: results, memory, skipped };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await redis.flush();
  }
}

async function weigh(redis: BenchRedis, server: ServerId, keys: string[]): Promise<SessionMemory> {
  const usage = await redis.memoryUsage(keys);
  const weighed = [...usage].map(([key, bytes]) => ({ key: normaliseKey(key), bytes })).sort((a, b) => a.key.localeCompare(b.key));
  return { server, bytes: weighed.reduce((sum, entry) => sum + entry.bytes, 0), keys: weighed };
}
