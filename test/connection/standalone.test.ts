import { RedisStore } from 'connect-redis';
import { createClient, type RedisClientType } from 'redis';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { StoreUnavailableError } from 'agent-session';
import { connectRedis, RedisStartupError, type NodeRedisClient, type RedisConnection } from 'agent-session';
import type { RedisCommandClient } from '../../src/redis/client.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { recordEvents } from '../harness/wait.js';

/** A single redis-server: URL, ACL user, database, password, app-supplied client, health, connect-redis. */

const ADMIN_PASSWORD = 'admin-pw-7f3a';
const USER_PASSWORD = 'agent-pw-91c2';
let server: RedisServer;
let admin: RedisClientType;

beforeAll(async () => {
  server = await startRedisServer({ args: ['--requirepass', ADMIN_PASSWORD] });
  admin = await createClient({ url: server.url, password: ADMIN_PASSWORD }).connect();
  await admin.sendCommand(['ACL', 'SETUSER', 'agent', 'on', `>${USER_PASSWORD}`, '~*', '&*', '+@all', '-config']);
});

afterAll(async () => {
  admin.destroy();
  await server.dispose();
});

const port = () => server.port;

describe('standalone Redis', () => {
  it('connects with a URL carrying an ACL user and a database', async () => {
    const log = recordEvents();
    const connection = await connectRedis({ url: `redis://agent:${USER_PASSWORD}@127.0.0.1:${port()}/3`, logger: log.logger });
    try {
      const client = connection.client as RedisClientType;
      expect(connection.owned).toBe(true);
      expect(await client.aclWhoAmI()).toBe('agent');
      await client.set('standalone:url', 'in-db-3');
      expect(await admin.get('standalone:url')).toBeNull();
      const db3 = await createClient({ url: server.url, password: ADMIN_PASSWORD, database: 3 }).connect();
      expect(await db3.get('standalone:url')).toBe('in-db-3');
      db3.destroy();
      expect(log.events.map((event) => event.type)).toEqual(['connect', 'ready']);
    } finally {
      await connection.close();
    }
  });

  it('connects with host, port, username, password and database options', async () => {
    const connection = await connectRedis({ host: '127.0.0.1', port: port(), username: 'agent', password: USER_PASSWORD, database: 5, logger: () => {} });
    try {
      const client = connection.client as RedisClientType;
      await client.set('standalone:options', 'in-db-5');
      expect(await client.sendCommand(['CLIENT', 'INFO'])).toMatch(/ db=5 .*user=agent /);
    } finally {
      await connection.close();
    }
  });

  it('fails start-up at once on a wrong password, without printing it', async () => {
    const log = recordEvents();
    const attempt = connectRedis({ url: `redis://agent:wrong-pw-55@127.0.0.1:${port()}`, connectTimeoutMs: 10_000, logger: log.logger });
    const error = await attempt.catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(RedisStartupError);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as StoreUnavailableError).code).toBe('STORE_UNAVAILABLE');
    const { message } = error as Error;
    expect(message).toContain(`Could not connect to redis://agent@127.0.0.1:${port()}`);
    expect(message).toMatch(/WRONGPASS/);
    expect(message).toMatch(/Check `username`\/`password`/);
    expect(message + log.text()).not.toContain('wrong-pw-55');
  });

  it('reports health: ready with PING latency, closed after close()', async () => {
    const connection = await connectRedis({ url: server.url, password: ADMIN_PASSWORD, logger: () => {} });
    const health = await connection.health();
    expect(health.state).toBe('ready');
    expect(health.latencyMs).toBeGreaterThanOrEqual(0);
    await connection.close();
    await connection.close(); // idempotent
    expect(await connection.health()).toEqual({ state: 'closed' });
    expect(connection.client.isOpen).toBe(false);
  });

  it('uses an app-supplied client without owning it', async () => {
    const appClient = await createClient({ url: server.url, password: ADMIN_PASSWORD }).connect();
    const listenersBefore = appClient.listenerCount('error');
    const connection: RedisConnection = await connectRedis({ client: appClient, logger: () => {} });
    expect(connection.owned).toBe(false);
    expect(connection.client).toBe(appClient);
    expect(appClient.listenerCount('error')).toBe(listenersBefore + 1);
    expect((await connection.health()).state).toBe('ready');
    await connection.close();
    expect(appClient.isOpen).toBe(true);
    expect(await appClient.ping()).toBe('PONG');
    expect(appClient.listenerCount('error')).toBe(listenersBefore);
    appClient.destroy();
  });

  it('hands connect-redis a client it can use', async () => {
    const connection = await connectRedis({ url: server.url, password: ADMIN_PASSWORD, logger: () => {} });
    try {
      const store = new RedisStore({ client: connection.client, prefix: 'standalone:sess:' });
      await store.set('sid-1', { cookie: { originalMaxAge: 60_000 } } as never);
      expect(await store.get('sid-1')).toEqual({ cookie: { originalMaxAge: 60_000 } });
    } finally {
      await connection.close();
    }
  });

  it('exports a client type that fits RedisCommandClient and covers connect-redis clients', () => {
    expectTypeOf<NodeRedisClient>().toExtend<RedisCommandClient>();
    // connect-redis types its client as standalone | cluster; both are members of ours.
    expectTypeOf<RedisStore['client']>().toExtend<NodeRedisClient>();
  });
});
