import { createClient } from 'redis';
import { listening, runExample, stop, type Example } from '../examples/processes.js';
import { freePort, startRedisServer, type RedisServer } from '../harness/redis-server.js';

export const EXAMPLE_SERVERS = [
  ['Express', 'examples/express-server.ts'],
  ['Koa', 'examples/koa-server.ts'],
] as const;

/** The key prefix the examples use (their default). */
export const EXAMPLE_PREFIX = 'agent:';

export interface RunningExample {
  url: string;
  redis: RedisServer;
  example: Example;
  /** Every key in the example's private Redis that is not under its prefix. */
  keysOutsidePrefix(): Promise<string[]>;
  /** The largest string value (a cookie session, a lease) in the example's Redis, in bytes, and its key. */
  largestString(): Promise<{ key: string; bytes: number } | undefined>;
  close(): Promise<void>;
}

/** An example server as users run it (tsx, a child process), on a private Redis of its own, without the cold tier. */
export async function startExample(file: string): Promise<RunningExample> {
  const redis = await startRedisServer();
  const port = await freePort();
  const example = runExample(file, { PORT: String(port), REDIS_URL: redis.url });
  try {
    await listening(example, `http://localhost:${port}`);
  } catch (error) {
    await stop(example);
    await redis.dispose();
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    redis,
    example,
    keysOutsidePrefix: async () => {
      const client = createClient({ url: redis.url });
      await client.connect();
      try {
        const outside: string[] = [];
        for await (const batch of client.scanIterator({ COUNT: 1000 })) outside.push(...batch.filter((key) => !key.startsWith(EXAMPLE_PREFIX)));
        return outside;
      } finally {
        await client.close();
      }
    },
    largestString: async () => {
      const client = createClient({ url: redis.url });
      await client.connect();
      try {
        let largest: { key: string; bytes: number } | undefined;
        for await (const batch of client.scanIterator({ COUNT: 1000, TYPE: 'string' })) {
          for (const key of batch) {
            const bytes = await client.strLen(key);
            if (!largest || bytes > largest.bytes) largest = { key, bytes };
          }
        }
        return largest;
      } finally {
        await client.close();
      }
    },
    close: async () => {
      await stop(example);
      await redis.dispose();
    },
  };
}
