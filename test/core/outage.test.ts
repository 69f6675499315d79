import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, createAgentStore, StoreUnavailableError, type AgentStore, type RedisConnection } from 'agent-session';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { eventually, rejectionOf } from '../harness/wait.js';

const FAIL_FAST_MS = 500;
// The bound the issue sets is "within failFastMs"; the margin absorbs a loaded CI machine.
const MARGIN_MS = 1_500;

let server: RedisServer;
let redis: RedisConnection;
let store: AgentStore;

beforeAll(async () => {
  server = await startRedisServer();
  redis = await connectRedis({ url: server.url, failFastMs: FAIL_FAST_MS, logger: () => {} });
  store = createAgentStore({ redis });
});
afterAll(async () => {
  await redis.close();
  await server.dispose();
});

describe('agent state while Redis is down', () => {
  it('every operation fails fast with StoreUnavailableError, then the same store works after a restart', async () => {
    const session = await store.create({ userId: 'u1' });
    await session.appendTurn({ role: 'user', content: 'before the outage' });

    await server.stop();
    const operations: Array<() => Promise<unknown>> = [
      () => session.appendTurn({ role: 'user', content: 'during the outage' }),
      () => session.snapshot(),
      () => session.touch(),
      () => store.create(),
    ];
    for (const operation of operations) {
      const { error, elapsedMs } = await rejectionOf(operation());
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(elapsedMs).toBeLessThan(FAIL_FAST_MS + MARGIN_MS);
    }

    await server.restart();
    await eventually('the connection to report ready', async () => (await redis.health()).state === 'ready');
    // The restarted server has neither the data nor the scripts: the store reloads them by itself.
    const fresh = await store.create({ userId: 'u1' });
    await expect(fresh.appendTurn({ role: 'user', content: 'after the outage' })).resolves.toMatchObject({ seq: 1 });
  });
});
