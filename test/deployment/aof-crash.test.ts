import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { connectRedis } from 'agent-session';
import { acknowledged, recoveryAfter, runChats, startChatApp, verify, type Verification } from '../harness/chats.js';
import { startRedisServer } from '../harness/redis-server.js';
import { eventually } from '../harness/wait.js';

/**
 * docs/deployment.md's standalone persistence, the quick version of
 * `npm run topology:aof`: chats append over HTTP, redis-server is killed
 * with SIGKILL and restarted on the same dir, and the conversations are read
 * back. Redis write()s the AOF before it answers the commands of that
 * event-loop turn, so a killed *process* loses no acknowledged turn with
 * either fsync policy (what `everysec` can lose is the last second on an
 * OS crash or power loss, which a kill cannot reproduce). Without
 * persistence everything is gone: the control that shows the check bites.
 */
async function crashWhileChatting(args: string[]): Promise<Verification> {
  const server = await startRedisServer({ args });
  const redis = await connectRedis({ url: server.url, logger: () => {} });
  const app = await startChatApp(redis);
  const chats = 4;
  const run = runChats(app.url, { chats });
  try {
    await eventually('some turns acknowledged before the kill', () => run.calls.filter(acknowledged).length >= 40);
    await server.kill();
    const killedAt = performance.now();
    await server.restart();
    await eventually('every chat served again after the restart', () => recoveryAfter(killedAt, run.calls, chats).allServedMs !== undefined, 20_000);
    await run.stop();
    return await verify(app.url, run);
  } finally {
    await run.stop();
    await app.close();
    await redis.close();
    await server.dispose();
  }
}

describe('kill -9 of a standalone Redis, restarted on its data', () => {
  it('appendfsync always: no acknowledged turn is lost', async () => {
    const result = await crashWhileChatting(['--appendonly', 'yes', '--appendfsync', 'always']);
    expect(result.acknowledged).toBeGreaterThan(40);
    expect(result.lost).toBe(0);
  });

  it('appendfsync everysec: no acknowledged turn is lost to a process crash', async () => {
    const result = await crashWhileChatting(['--appendonly', 'yes', '--appendfsync', 'everysec']);
    expect(result.acknowledged).toBeGreaterThan(40);
    expect(result.lost).toBe(0);
  });

  it('no persistence: the turns acknowledged before the kill are lost (the control)', async () => {
    const result = await crashWhileChatting(['--appendonly', 'no', '--save', '']);
    expect(result.lost).toBeGreaterThanOrEqual(40);
  });
});
