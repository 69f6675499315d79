import type { RedisClientType } from 'redis';
import { describe, expect, it } from 'vitest';
import { connectRedis } from 'agent-session';
import { eventually } from '../harness/wait.js';
import { FRAMEWORKS, type TestApp } from './apps.js';
import { Browser } from './browser.js';
import { agentKeys, usePrivateRedis, useFixture } from './fixture.js';

// A private server: this file freezes it.
const privateRedis = usePrivateRedis();
const fixture = useFixture(() => privateRedis.server.url);

/** Long on purpose: while Redis is frozen and the app keeps writing, only the detector can make the answers come before this. */
const FAIL_FAST_MS = 3_000;

/** A new visitor posting a turn every `everyMs` (each one creates an agent session), without waiting for the previous answer. */
function keepPosting(app: TestApp, everyMs: number): { statuses: number[]; stop(): Promise<void> } {
  const statuses: number[] = [];
  const pending: Array<Promise<void>> = [];
  const send = () => pending.push(new Browser(app).post('/turn', { content: 'during the freeze' }).then((response) => void statuses.push(response.status)));
  send();
  const timer = setInterval(send, everyMs);
  return {
    statuses,
    stop: async () => {
      clearInterval(timer);
      await Promise.all(pending);
    },
  };
}

describe.each(FRAMEWORKS)('%s: a frozen Redis (SIGSTOP)', (framework) => {
  it('answers 503 once the freeze is detected, serves again after the thaw, and no request answered 503 left anything', { timeout: 60_000 }, async () => {
    const redis = await connectRedis({ url: privateRedis.server.url, failFastMs: FAIL_FAST_MS, logger: () => {} });
    const server = privateRedis.server;
    let frozen = false;
    try {
      const app = await fixture.app(framework, { redis });
      const known = new Browser(app);
      expect((await known.post('/turn', { content: 'before the freeze' })).status).toBe(200);
      const before = await agentKeys(fixture.inspector, app.prefix);

      server.freeze();
      frozen = true;
      const load = keepPosting(app, 100);
      await eventually('the freeze to be detected (the connection dropped)', () => !(redis.client as RedisClientType).isReady, 20_000);
      // Detected: a request now is answered 503 by a connection that refuses at once, with a cookie and without.
      expect((await known.get('/state')).status).toBe(503);
      expect((await new Browser(app).post('/turn', { content: 'after detection' })).status).toBe(503);
      await load.stop();
      expect(load.statuses.length).toBeGreaterThan(2);
      expect(new Set(load.statuses)).toEqual(new Set([503]));

      // Connected before the freeze: its reply comes only after everything buffered at the thaw ran.
      const sync = fixture.inspector.ping();
      server.thaw();
      frozen = false;
      await sync;
      await eventually('the same app to serve again', async () => (await known.get('/state')).status === 200, 20_000);
      // Not one of the requests answered 503 created a session or wrote a turn.
      expect(await agentKeys(fixture.inspector, app.prefix)).toEqual(before);
      expect((await known.get('/state')).body).toMatchObject({ turnCount: 1 });
    } finally {
      if (frozen) server.thaw();
      await redis.close();
    }
  });
});
