import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisConnection } from 'agent-session';
import { startChatApp, type ChatApp } from '../harness/chats.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { rawClient, type TestClient } from '../harness/store.js';
import { startSentinelSetup, type SentinelSetup } from '../harness/topologies.js';

/**
 * A promoted replica, a restarted server or a SCRIPT FLUSH leaves Redis
 * without the library's scripts; each is loaded again by the first call
 * that needs it (NOSCRIPT, then EVAL). Found by `npm run topology:sentinel-failover`:
 * a browser's first agent write sends CREATE and the write together, and when
 * the write's script is already loaded again but CREATE's is not, the write
 * runs first and finds no session; the request then failed with
 * SessionNotFoundError (404) when the retry overtook CREATE's reload.
 */
interface Target {
  redis: RedisConnection;
  master: TestClient;
  dispose(): Promise<void>;
}

const TARGETS: Record<string, () => Promise<Target>> = {
  standalone: async () => {
    const server: RedisServer = await startRedisServer();
    const redis = await connectRedis({ url: server.url, logger: () => {} });
    const master = await rawClient(server.url);
    return { redis, master, dispose: async () => void (await Promise.all([master.close(), redis.close()]), await server.dispose()) };
  },
  sentinel: async () => {
    const setup: SentinelSetup = await startSentinelSetup();
    const redis = await connectRedis({ sentinel: { masterName: setup.masterName, nodes: [setup.sentinelNode] }, logger: () => {} });
    const master = await rawClient(setup.master.url);
    return { redis, master, dispose: async () => void (await Promise.all([master.close(), redis.close()]), await setup.dispose()) };
  },
};

describe.each(Object.keys(TARGETS))('an emptied script cache (%s)', (name) => {
  let target: Target;
  let app: ChatApp;
  beforeAll(async () => {
    target = await TARGETS[name]!();
    app = await startChatApp(target.redis);
  });
  afterAll(async () => {
    await app?.close();
    await target?.dispose();
  });

  async function chat(content: string, cookie?: string): Promise<{ status: number; cookie: string | undefined }> {
    const response = await fetch(`${app.url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
      body: JSON.stringify({ content }),
    });
    await response.arrayBuffer();
    return { status: response.status, cookie: response.headers.get('set-cookie')?.split(';')[0] ?? cookie };
  }

  it("new browsers' first writes succeed when the write's script is loaded again before CREATE's", async () => {
    const first = await chat('hello');
    expect(first.status).toBe(200);
    for (let round = 0; round < 5; round++) {
      await target.master.sendCommand(['SCRIPT', 'FLUSH']);
      // An existing conversation's append loads the append script again; CREATE's is still unknown.
      expect((await chat('again', first.cookie)).status).toBe(200);
      const results = await Promise.all(Array.from({ length: 4 }, (_, i) => chat(`new ${round}.${i}`)));
      expect(results.map((result) => result.status)).toEqual([200, 200, 200, 200]);
      for (const [i, result] of results.entries()) {
        const read = await fetch(`${app.url}/chat`, { headers: { cookie: result.cookie! } });
        expect(((await read.json()) as { contents: string[] }).contents).toEqual([`new ${round}.${i}`]);
      }
    }
  });
});
