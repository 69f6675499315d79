import { createClient, type RedisClientType } from 'redis';
import { parseInfo } from '../../src/metrics/redis-info.js';
import { startRedisServer, type RedisServer } from '../../test/harness/redis-server.js';

/**
 * The bench's own redis-server (a free port, a temp dir, no persistence;
 * never the machine's Redis) and the few things the bench asks of it:
 * command counts, memory per key, its version and pid.
 */
export interface BenchRedis {
  readonly url: string;
  readonly version: string;
  readonly pid: number;
  /** A client for the bench's own questions (its commands are left out of the counts). */
  readonly client: RedisClientType;
  commandStats(): Promise<CommandStats>;
  /** Microseconds Redis has spent running scripts (EVAL*, EVALSHA*), from INFO commandstats: see scriptMicros. */
  scriptMicros(): Promise<number>;
  /** Every key in the server (SCAN, never KEYS). */
  keys(): Promise<Set<string>>;
  /** MEMORY USAGE of each key, exact (SAMPLES 0). */
  memoryUsage(keys: Iterable<string>): Promise<Map<string, number>>;
  /** Empties the bench's private server between stages. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Calls per command name, from INFO commandstats. (Its usec are left out:
 * a script's own time already includes the commands it runs, which
 * commandstats also times separately.)
 */
export type CommandStats = Map<string, number>;

/**
 * Commands the bench itself sends while measuring (INFO before and after, the
 * ECHO markers of the command log, MONITOR): they are not the servers' work.
 */
const BENCH_OWN = new Set(['info', 'echo', 'monitor', 'ping', 'hello', 'client|setinfo', 'client|setname']);

export async function startBenchRedis(): Promise<BenchRedis> {
  const server: RedisServer = await startRedisServer({ args: ['--maxmemory-policy', 'noeviction'] });
  const client: RedisClientType = createClient({ url: server.url });
  client.on('error', () => {});
  await client.connect();
  const info = parseInfo(await client.info('server'));

  return {
    url: server.url,
    version: info.get('redis_version') ?? 'unknown',
    pid: Number(info.get('process_id') ?? 0),
    client,
    commandStats: async () => parseCommandStats(await client.info('commandstats')),
    scriptMicros: async () => scriptMicros(await client.info('commandstats')),
    keys: async () => {
      const found = new Set<string>();
      for await (const batch of client.scanIterator({ COUNT: 1000 })) for (const key of batch) found.add(key);
      return found;
    },
    memoryUsage: async (keys) => {
      const usage = new Map<string, number>();
      for (const key of keys) usage.set(key, Number((await client.memoryUsage(key, { SAMPLES: 0 })) ?? 0));
      return usage;
    },
    flush: async () => {
      await client.flushAll();
    },
    close: async () => {
      await client.close().catch(() => {});
      await server.dispose();
    },
  };
}

export function parseCommandStats(text: string): CommandStats {
  const stats: CommandStats = new Map();
  for (const [field, value] of parseInfo(text)) {
    if (!field.startsWith('cmdstat_')) continue;
    const calls = /calls=(\d+)/.exec(value);
    stats.set(field.slice('cmdstat_'.length), Number(calls?.[1] ?? 0));
  }
  return stats;
}

/**
 * Time spent in scripts: the usec of EVAL / EVALSHA (and their _RO forms).
 * A script's time includes the commands it runs, which commandstats also
 * times under their own names, so only the script entries are summed.
 */
export function scriptMicros(text: string): number {
  let usec = 0;
  for (const [field, value] of parseInfo(text)) {
    if (!/^cmdstat_eval(sha)?(_ro)?$/.test(field)) continue;
    usec += Number(/usec=(\d+)/.exec(value)?.[1] ?? 0);
  }
  return usec;
}

/** Commands run between two snapshots, leaving out the bench's own. */
export function callsBetween(before: CommandStats, after: CommandStats): number {
  let calls = 0;
  for (const [name, now] of after) if (!BENCH_OWN.has(name)) calls += now - (before.get(name) ?? 0);
  return calls;
}
