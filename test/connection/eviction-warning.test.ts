import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis } from 'agent-session';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { recordEvents } from '../harness/wait.js';

/** At start-up, an allkeys-* maxmemory-policy (which can evict live sessions) raises one warning. */

let server: RedisServer | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
});

async function warningsFor(policy: string) {
  server = await startRedisServer({ args: ['--maxmemory-policy', policy] });
  const log = recordEvents();
  const connection = await connectRedis({ url: server.url, logger: log.logger });
  await connection.close();
  return log.events.filter((event) => event.type === 'warning');
}

describe('maxmemory-policy check', () => {
  it('warns once about allkeys-lru and suggests a volatile policy', async () => {
    const warnings = await warningsFor('allkeys-lru');
    expect(warnings).toHaveLength(1);
    const [warning] = warnings;
    expect(warning?.type === 'warning' && warning.message).toMatch(/maxmemory-policy is "allkeys-lru" on redis:\/\/127\.0\.0\.1:\d+: .*evict any key, including live agent sessions/);
    expect(warning?.type === 'warning' && warning.message).toMatch(/volatile-ttl.*volatile-lru/);
  });

  it('stays quiet for volatile-lru', async () => {
    const warnings = await warningsFor('volatile-lru');
    expect(warnings).toEqual([]);
  });

  it('skips the check quietly when the ACL user may not run CONFIG', async () => {
    server = await startRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    const admin = await createClient({ url: server.url }).connect();
    await admin.sendCommand(['ACL', 'SETUSER', 'limited', 'on', '>limited-pw', '~*', '&*', '+@all', '-config']);
    admin.destroy();
    const log = recordEvents();
    const connection = await connectRedis({ url: server.url, username: 'limited', password: 'limited-pw', logger: log.logger });
    expect((await connection.health()).state).toBe('ready');
    await connection.close();
    expect(log.events.map((event) => event.type)).toEqual(['connect', 'ready']);
  });
});
