import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import { connectRedis, type RedisConnection } from 'agent-session';
import { watchCommands, type CommandCounter } from '../harness/command-counter.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { keysUnder, rawClient, uniquePrefix, type TestClient } from '../harness/store.js';
import { startApp, type Framework, type TestApp, type TestAppOptions } from './apps.js';

/**
 * What a conformance test file needs: a connection like an app's (from
 * connectRedis), a raw client to inspect keys, and apps that are closed after
 * each test. Each app gets its own key prefix, so tests share the run's
 * redis-server without seeing each other's keys.
 */
export interface Fixture {
  readonly redis: RedisConnection;
  readonly inspector: TestClient;
  /** Starts an app with a fresh key prefix (returned with it); closed after the test. */
  app(framework: Framework, options?: Partial<TestAppOptions>): Promise<TestApp & { prefix: string }>;
}

export function useFixture(url?: () => string): Fixture {
  let redis: RedisConnection | undefined;
  let inspector: TestClient | undefined;
  const open: TestApp[] = [];

  beforeAll(async () => {
    const target = url?.() ?? inject('redisUrl');
    redis = await connectRedis({ url: target, failFastMs: 1_000, logger: () => {} });
    inspector = await rawClient(target);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((app) => app.close()));
  });
  afterAll(async () => {
    await inspector?.close();
    await redis?.close();
  });

  return {
    get redis() {
      if (!redis) throw new Error('fixture used outside a test');
      return redis;
    },
    get inspector() {
      if (!inspector) throw new Error('fixture used outside a test');
      return inspector;
    },
    async app(framework, options = {}) {
      const prefix = options.keyPrefix ?? uniquePrefix();
      // Production defaults (Secure cookies) behind a trusted proxy that terminated TLS; see Browser.
      const app = await startApp(framework, { redis: this.redis, keyPrefix: prefix, trustProxy: true, ...options });
      open.push(app);
      return { ...app, prefix };
    },
  };
}

/**
 * A redis-server of the test file's own: for tests that stop it, or that
 * count commands with MONITOR (which must see no other file's traffic).
 */
export function usePrivateRedis(options: { monitor?: boolean } = {}): { readonly server: RedisServer; readonly counter: CommandCounter } {
  let server: RedisServer | undefined;
  let counter: CommandCounter | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
    if (options.monitor) counter = await watchCommands(server.url);
  });
  afterAll(async () => {
    await counter?.close();
    await server?.dispose();
  });
  return {
    get server() {
      if (!server) throw new Error('private Redis used outside a test');
      return server;
    },
    get counter() {
      if (!counter) throw new Error('pass { monitor: true } to count commands');
      return counter;
    },
  };
}

/** The cookie-session keys under a prefix. */
export function cookieSessionKeys(inspector: TestClient, prefix: string): Promise<string[]> {
  return keysUnder(inspector, `${prefix}sess:`);
}

/** The agent-state keys under a prefix (they start with the `{id}` hash tag; cookie-session keys carry one too, after `sess:`). */
export async function agentKeys(inspector: TestClient, prefix: string): Promise<string[]> {
  return (await keysUnder(inspector, prefix)).filter((key) => key.startsWith(`${prefix}{`));
}

/** Every key under a prefix with its type, value and TTL, to show that a request changed nothing. */
export async function dump(inspector: TestClient, prefix: string): Promise<Record<string, { value: unknown; pttl: number }>> {
  const result: Record<string, { value: unknown; pttl: number }> = {};
  for (const key of await keysUnder(inspector, prefix)) {
    const type = await inspector.type(key);
    const value =
      type === 'hash' ? await inspector.hGetAll(key) : type === 'list' ? await inspector.lRange(key, 0, -1) : await inspector.get(key);
    result[key] = { value, pttl: await inspector.pTTL(key) };
  }
  return result;
}
