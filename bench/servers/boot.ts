import { createServer, type RequestListener } from 'node:http';
import { createClient, type RedisClientType } from 'redis';
import { DEFAULT_HISTORY } from '../contract.js';

/**
 * What every bench server process shares: its settings from the environment
 * the runner sets, a listener on a free loopback port, the "ready" message
 * to the runner over IPC, and a clean exit when the runner stops it (or
 * disappears).
 */
export interface ServerSettings {
  redisUrl: string;
  /** The turn window (maxTurns); growth stages raise it with the history. */
  window: number;
  /** Cookie signing secret (>= 32 characters, as agent-session requires). */
  secret: string;
}

export function settings(): ServerSettings {
  const window = Number(process.env.BENCH_WINDOW ?? DEFAULT_HISTORY);
  return {
    redisUrl: process.env.REDIS_URL ?? '',
    window: Number.isSafeInteger(window) && window > 0 ? window : DEFAULT_HISTORY,
    secret: process.env.BENCH_SECRET ?? 'bench-secret-0123456789abcdef0123456789',
  };
}

/** Where the cold-tier stage's processes (server 3a, the archiver) archive to. */
export interface ArchiveSettings {
  /** The stage's own database (BENCH_PG_URL with the database it created). */
  pgUrl: string;
  /** The archive's schema: each part of the stage has its own. */
  schema: string;
  /** `archive.maxBacklog` when the stage sets one (see phases/archive-throughput.ts); else the library's default. */
  maxBacklog?: number;
}

export function archiveSettings(): ArchiveSettings {
  const pgUrl = process.env.BENCH_PG_URL ?? '';
  if (!pgUrl) throw new Error('BENCH_PG_URL is not set: the cold-tier processes are started by bench/phases/archive.ts.');
  const maxBacklog = Number(process.env.BENCH_MAX_BACKLOG);
  return {
    pgUrl,
    schema: process.env.BENCH_PG_SCHEMA ?? 'agent_session',
    ...(Number.isSafeInteger(maxBacklog) && maxBacklog > 0 ? { maxBacklog } : {}),
  };
}

/** A plain node-redis client, as a user of the peers creates one. */
export async function plainRedis(url: string): Promise<RedisClientType> {
  if (!url) throw new Error('REDIS_URL is not set: bench servers are started by bench/run.ts.');
  const client: RedisClientType = createClient({ url });
  client.on('error', (error: Error) => console.error(`redis: ${error.message}`));
  await client.connect();
  return client;
}

/**
 * Listens on 127.0.0.1 (a free port), tells the runner the port, and runs
 * `close` then exits on SIGTERM or when the runner's IPC channel goes away.
 */
export async function serve(listener: RequestListener, close: () => Promise<unknown> = async () => {}): Promise<void> {
  const server = createServer(listener);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : 0;

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    server.close();
    await Promise.race([close(), new Promise((resolve) => setTimeout(resolve, 2_000))]).catch(() => {});
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('disconnect', () => void stop());

  if (process.send) process.send({ ready: true, port });
  else console.log(`listening on http://127.0.0.1:${port}`);
}
