import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { connectRedis, createAgentStore, RedisPermissionError, type RedisConnection } from 'agent-session';
import { toPermissionError } from '../../src/redis/permission.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { FRAMEWORKS, startApp, type TestApp } from '../middleware/apps.js';
import { Browser } from '../middleware/browser.js';
import { ACL_LINES, aclSetUserArguments } from './lines.js';

/**
 * An ACL user that lacks a command the library needs gets a typed error that
 * names the command and points at the README's ACL lines, not Redis's raw
 * NOPERM reply.
 */
describe('NOPERM replies as RedisPermissionError', () => {
  it.each([
    ["NOPERM this user has no permissions to run the 'xadd' command", 'xadd'],
    ["NOPERM this user has no permissions to run the 'xgroup|create' command", 'xgroup|create'],
    // Redis 7.2+, inside a script:
    ["NOPERM User app has no permissions to run the 'hset' command script: 0123abcd, on @user_script:3.", 'hset'],
  ])('%s names %s', (reply, command) => {
    const error = toPermissionError(new Error(reply));
    expect(error).toBeInstanceOf(RedisPermissionError);
    expect(error).toMatchObject({ code: 'REDIS_PERMISSION_DENIED', command });
    expect(error?.message).toContain(`'${command}'`);
    expect(error?.message).toContain('README');
    expect(error?.message).toContain('ACL');
    expect(error?.message).not.toContain('app has'); // the ACL user's name stays out of the message
    expect(error?.cause).toBeUndefined();
  });

  it('a Redis 7.0 script reply, which names no command, names the script instead', () => {
    const reply = "ERR The user executing the script can't run this command or subcommand script: 0123abcd, on @user_script:1.";
    const error = toPermissionError(new Error(reply), 'agent-session:append-turn (appendTurn-6.lua)');
    expect(error).toMatchObject({ code: 'REDIS_PERMISSION_DENIED', command: undefined });
    expect(error?.message).toContain('agent-session:append-turn (appendTurn-6.lua)');
  });

  it('a key outside the ACL key pattern says to widen the pattern to the key prefix', () => {
    for (const reply of [
      'NOPERM this user has no permissions to access one of the keys used as arguments',
      'NOPERM No permissions to access a key',
      "ERR The user executing the script can't access at least one of the keys mentioned in the command script: 0123abcd, on @user_script:1.",
    ]) {
      const error = toPermissionError(new Error(reply));
      expect(error).toMatchObject({ code: 'REDIS_PERMISSION_DENIED', command: undefined });
      expect(error?.message).toMatch(/key pattern/);
    }
  });

  it('leaves every other error alone', () => {
    expect(toPermissionError(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBeUndefined();
    expect(toPermissionError('NOPERM')).toBeUndefined();
  });
});

describe('a library call as an ACL user that lacks a command', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.dispose();
  });

  async function connectAs(user: string, withoutCommands: string[]): Promise<RedisConnection> {
    const admin = createClient({ url: server.url });
    await admin.connect();
    const args = aclSetUserArguments(ACL_LINES.app, { user, password: 'pw', keyPrefix: 'agent:' });
    await admin.sendCommand(['ACL', 'SETUSER', ...args, ...withoutCommands.map((command) => `-${command}`)]);
    await admin.close();
    return connectRedis({ url: `redis://${user}:pw@127.0.0.1:${server.port}` });
  }

  it('a client command (the cookie session read) raises RedisPermissionError naming it', async () => {
    const redis = await connectAs('no-get', ['get']);
    try {
      const { cookieSessionRedis } = await import('../../src/request/cookie-session-redis.js');
      const error = await cookieSessionRedis(redis).get('agent:sess:x').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RedisPermissionError);
      expect(error).toMatchObject({ code: 'REDIS_PERMISSION_DENIED', command: 'get' });
    } finally {
      await redis.close();
    }
  });

  it.each(FRAMEWORKS)('%s: the middleware leaves it to the app (a 500, not a 503 that says "retry")', async (framework) => {
    const redis = await connectAs(`no-rpush-${framework}`, ['rpush']);
    let app: TestApp | undefined;
    const errors: unknown[] = [];
    try {
      app = await startApp(framework, { redis, keyPrefix: 'agent:', trustProxy: true });
      const browser = new Browser(app, undefined);
      const alice = { 'x-user': 'alice' };
      expect((await browser.post('/login', { userId: 'alice' }, alice)).status).toBe(200);
      const turn = await browser.post('/turn', { content: 'hello' }, alice);
      expect(turn.status).toBe(500);
      expect(turn.headers['retry-after']).toBeUndefined();
      errors.push(turn.text);
    } finally {
      await app?.close();
      await redis.close();
    }
    expect(String(errors[0])).not.toContain('hello');
  });

  it('an observation refused for lack of +xtrim adds no job (the queue bound comes before the XADD)', async () => {
    const redis = await connectAs('no-xtrim', ['xtrim']);
    const admin = createClient({ url: server.url });
    await admin.connect();
    try {
      const store = createAgentStore({ redis, keyPrefix: 'agent:xtrim:' });
      const session = await store.create();
      for (let attempt = 0; attempt < 3; attempt++) {
        await expect(session.requestObservation()).rejects.toBeInstanceOf(RedisPermissionError);
      }
      const queues = await admin.keys('agent:xtrim:*');
      const lengths = await Promise.all(queues.filter((key) => !key.includes('{')).map((key) => admin.xLen(key)));
      expect(lengths.reduce((sum, length) => sum + length, 0)).toBe(0);
    } finally {
      await admin.close();
      await redis.close();
    }
  });

  it('the observer backlog report refused +xpending raises RedisPermissionError, not pending: 0', async () => {
    const redis = await connectAs('no-xpending', ['xpending']);
    try {
      const store = createAgentStore({ redis, keyPrefix: 'agent:xpending:' });
      const session = await store.create();
      await session.requestObservation();
      await expect(store.observerBacklog()).rejects.toBeInstanceOf(RedisPermissionError);
    } finally {
      await redis.close();
    }
  });

  it('a command inside a script raises RedisPermissionError naming the command or, on Redis 7.0, the script', async () => {
    const redis = await connectAs('no-rpush', ['rpush']);
    try {
      const store = createAgentStore({ redis });
      const session = await store.create();
      const error = await session.appendTurn({ role: 'user', content: 'hello' }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RedisPermissionError);
      const { command, message } = error as RedisPermissionError;
      if (command !== undefined) expect(command).toBe('rpush');
      else expect(message).toMatch(/appendTurn-\d+\.lua/);
      expect(message).not.toContain('hello');
    } finally {
      await redis.close();
    }
  });
});
