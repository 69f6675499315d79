import { randomBytes } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import { afterAll, beforeAll, inject } from 'vitest';
import type { AgentStoreOptions } from 'agent-session';
import { SessionStore } from '../../src/core/agent-store.js';

export type TestClient = RedisClientType;

/** A raw node-redis client on the run's test server, for inspecting keys directly. */
export async function rawClient(url: string = inject('redisUrl')): Promise<TestClient> {
  const client = createClient({ url, disableOfflineQueue: true }) as TestClient;
  client.on('error', () => {});
  await client.connect();
  return client;
}

/**
 * One raw client for a whole test file, connected before its tests and
 * closed after them. The returned object stands in for the client (it
 * forwards to it), so tests can hold it in a const at file level.
 */
export function clientForThisFile(): TestClient {
  let client: TestClient | undefined;
  beforeAll(async () => {
    client = await rawClient();
  });
  afterAll(async () => {
    await client?.close();
  });
  return new Proxy({} as TestClient, {
    get(_target, property) {
      if (!client) throw new Error('the test client is only connected inside tests and hooks');
      const value: unknown = Reflect.get(client, property, client);
      return typeof value === 'function' ? value.bind(client) : value;
    },
  });
}

/** A key prefix no other test uses, so tests share one server without flushing it. */
export function uniquePrefix(): string {
  return `t${randomBytes(6).toString('hex')}:`;
}

/**
 * A store with its own key prefix on the run's test server. The library's
 * internal store, so tests can also act as the observer (`writeNotes`) and
 * read a session's key names (`session.keys`); what apps can do is tested
 * through the public entry points.
 */
export function testStore(client: TestClient, options: Partial<AgentStoreOptions> = {}): SessionStore {
  const redis = { client, failFastMs: 2_000 };
  const store = new SessionStore({ redis, keyPrefix: uniquePrefix(), ...options });
  connections.set(store, options.redis ?? redis);
  return store;
}

const connections = new WeakMap<SessionStore, AgentStoreOptions['redis']>();

/** The Redis connection a `testStore` was made with, for a worker that must share it. */
export function redisOf(store: SessionStore): AgentStoreOptions['redis'] {
  const redis = connections.get(store);
  if (!redis) throw new Error('redisOf() takes a store made by testStore()');
  return redis;
}

/** All keys under a prefix (SCAN, never KEYS). */
export async function keysUnder(client: TestClient, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) found.push(...batch);
  return found.sort();
}

/** Redis Cluster's key slot: CRC16/XMODEM of the hash tag (or the whole key), mod 16384. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  let hashed = key;
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(hashed)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
