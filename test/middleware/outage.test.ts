import { describe, expect, it } from 'vitest';
import { eventually } from '../harness/wait.js';
import { FRAMEWORKS } from './apps.js';
import { Browser } from './browser.js';
import { usePrivateRedis, useFixture } from './fixture.js';

// A private server: this file stops and restarts it.
const privateRedis = usePrivateRedis();
const fixture = useFixture(() => privateRedis.server.url);

/** The fixture's connection fails fast after 1 s; the answer must come within that bound (plus slack for a busy machine). */
const BOUND_MS = 1_000 + 2_000;

describe.each(FRAMEWORKS)('%s: Redis unavailable', (framework) => {
  it('answers 503 with Retry-After while Redis is down, and serves again once it is back', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const app = await fixture.app(framework);
      const known = new Browser(app);
      expect((await known.post('/turn', { content: 'before the outage' })).status).toBe(200);
      const newcomer = new Browser(app);

      await privateRedis.server.stop();
      // With a cookie, loading the session fails; without one, the route's req.agent call does.
      for (const [browser, send] of [
        [known, () => known.get('/state')],
        [newcomer, () => newcomer.post('/turn', { content: 'during the outage' })],
      ] as const) {
        const started = performance.now();
        const response = await send();
        expect(performance.now() - started).toBeLessThan(BOUND_MS);
        expect(response.status, browser === known ? 'with a cookie' : 'without one').toBe(503);
        expect(response.headers['retry-after']).toBe('2');
        expect(response.body).toEqual({ error: 'session_store_unavailable' });
      }

      await privateRedis.server.restart();
      await eventually('the same app to serve sessions again', async () => (await known.get('/state')).status === 200, 15_000);
      // The test server keeps no data across a restart, so this is a new session: it works end to end.
      const after = await known.post('/turn', { content: 'after the outage' });
      expect(after.status).toBe(200);
      expect((await known.get('/state')).body).toMatchObject({ agentSessionId: after.body.agentSessionId, turnCount: 1 });
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe.each(FRAMEWORKS)('%s: an onError that throws', (framework) => {
  it('ends the request with 500 (the app error path), without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const answered: string[] = [];
    try {
      const app = await fixture.app(framework, {
        answerErrors: (error) => {
          answered.push(error.code);
          throw new Error('a broken onError (thrown on purpose by this test)');
        },
      });
      const browser = new Browser(app);
      expect((await browser.post('/turn', { content: 'before the outage' })).status).toBe(200);

      await privateRedis.server.stop();
      // Loading the cookie session fails; onError is called from inside express-session's store callback, and throws.
      const response = await browser.get('/state');
      expect(response.status).toBe(500);
      expect(answered).toEqual(['STORE_UNAVAILABLE']);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await privateRedis.server.restart();
      await eventually('the connection to be back', async () => (await fixture.redis.health()).state === 'ready', 15_000);
    }
  });
});
