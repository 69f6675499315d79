import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, startRedisServer } from '../harness/redis-server.js';
import { keysUnder, rawClient, type TestClient } from '../harness/store.js';
import { eventually } from '../harness/wait.js';
import { Browser } from '../middleware/browser.js';
import { listening, runExample, stop } from './processes.js';

/**
 * Each example server runs as users run it (see processes.ts), against the
 * run's test Redis on a free port, and the example HTTP contract is checked
 * over HTTP. The cold tier's routes are in cold-tier-examples.test.ts.
 */

let inspector: TestClient;
beforeAll(async () => {
  inspector = await rawClient();
});
afterAll(async () => {
  await inspector.close();
});

describe.each([
  ['Express', 'examples/express-server.ts'],
  ['Koa', 'examples/koa-server.ts'],
])('%s example server', (_name, file) => {
  it('serves the example HTTP contract over plain http', async () => {
    const port = await freePort();
    const example = runExample(file, { PORT: String(port), REDIS_URL: inject('redisUrl') });
    try {
      await listening(example, `http://localhost:${port}`);
      const browser = new Browser(`http://127.0.0.1:${port}`, {});

      const health = await browser.get('/healthz');
      expect(health.status).toBe(200);
      expect(health.body).toEqual({ redis: 'ready', latencyMs: expect.any(Number) });

      expect((await browser.post('/chat', { message: 'hi' })).status).toBe(401);
      expect((await browser.get('/state')).status).toBe(401);

      const login = await browser.post('/login', { userId: 'ada' });
      expect(login.status).toBe(200);
      const { agentSessionId } = login.body as { agentSessionId: string };
      expect(login.body).toEqual({ userId: 'ada', agentSessionId: expect.stringMatching(/^[A-Za-z0-9_-]{16,}$/) });

      const first = await browser.post('/chat', { message: 'hello there' });
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ reply: expect.any(String), turnCount: 2 });
      const again = await browser.post('/chat', { message: 'hello there' });
      expect(again.body).toEqual({ reply: first.body.reply, turnCount: 4 }); // deterministic

      const state = await browser.get('/state');
      expect(state.status).toBe(200);
      expect(state.body).toMatchObject({ userId: 'ada', agentSessionId, turnCount: 4, observer: { ready: false } });
      expect(state.body.turns.map((turn: { role: string }) => turn.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
      expect(state.body.toolCalls).toHaveLength(2);
      for (const call of state.body.toolCalls) {
        expect(call).toMatchObject({ name: 'count_words', status: 'completed', args: { text: 'hello there' } });
        expect(call.finishedAt).toBeGreaterThanOrEqual(call.startedAt);
      }
      expect(await keysUnder(inspector, `agent:{${agentSessionId}}`)).not.toEqual([]);

      // Another user logs in on the same browser: they start their own conversation; ada's is left, not deleted.
      const adaKeys = await keysUnder(inspector, `agent:{${agentSessionId}}`);
      const grace = await browser.post('/login', { userId: 'grace' });
      expect(grace.status).toBe(200);
      expect(grace.body).toEqual({ userId: 'grace', agentSessionId: expect.stringMatching(/^[A-Za-z0-9_-]{16,}$/) });
      expect(grace.body.agentSessionId).not.toBe(agentSessionId);
      expect((await browser.get('/state')).body).toMatchObject({ userId: 'grace', agentSessionId: grace.body.agentSessionId, turnCount: 0 });
      expect(await keysUnder(inspector, `agent:{${agentSessionId}}`)).toEqual(adaKeys);
      expect(await inspector.hGet(`agent:{${agentSessionId}}:meta`, 'userId')).toBe('ada');

      // Logout deletes the conversation of the user who logs out (grace's); ada's expires on its own.
      const logout = await browser.post('/logout');
      expect(logout.status).toBe(204);
      expect(await keysUnder(inspector, `agent:{${grace.body.agentSessionId}}`)).toEqual([]);
      expect(await keysUnder(inspector, `agent:{${agentSessionId}}`)).toEqual(adaKeys);
      expect((await browser.get('/state')).status).toBe(401);

      await stop(example);
      expect(await example.exited).toBe(0);
    } finally {
      await stop(example);
    }
  });

  it('without DATABASE_URL, says in one line that the cold tier is off, and serves none of its routes', async () => {
    const port = await freePort();
    const example = runExample(file, { PORT: String(port), REDIS_URL: inject('redisUrl') });
    try {
      await listening(example, `http://localhost:${port}`);
      const mentions = example.output().split('\n').filter((line) => /cold tier|DATABASE_URL/i.test(line));
      expect(mentions).toEqual(['cold tier off: set DATABASE_URL to archive conversations in PostgreSQL']);

      const browser = new Browser(`http://127.0.0.1:${port}`, {});
      expect((await browser.post('/login', { userId: 'ada' })).status).toBe(200);
      expect((await browser.get('/conversations')).status).toBe(404);
      expect((await browser.post('/conversations/abc/resume')).status).toBe(404);
      expect((await browser.get('/history')).status).toBe(404);
    } finally {
      await stop(example);
    }
  });

  it('answers 503 on /healthz and on session routes while Redis is down, and serves again when it is back', async () => {
    const redis = await startRedisServer();
    const port = await freePort();
    const example = runExample(file, { PORT: String(port), REDIS_URL: redis.url });
    try {
      await listening(example, `http://localhost:${port}`);
      const browser = new Browser(`http://127.0.0.1:${port}`, {});
      expect((await browser.post('/login', { userId: 'ada' })).status).toBe(200);

      await redis.stop();
      expect((await browser.get('/healthz')).status).toBe(503);
      const down = await browser.post('/chat', { message: 'anyone there?' });
      expect(down.status).toBe(503);
      expect(down.body).toEqual({ error: 'session_store_unavailable' });

      await redis.restart();
      await eventually('the example to report Redis ready', async () => (await browser.get('/healthz')).status === 200, 15_000);
      // The restarted test server kept no data: log in again, and the same process serves sessions.
      expect((await browser.post('/login', { userId: 'ada' })).status).toBe(200);
      expect((await browser.post('/chat', { message: 'back again' })).status).toBe(200);
    } finally {
      await stop(example);
      await redis.dispose();
    }
  });

  it('exits non-zero with a one-line message, not a stack trace, when Redis is unreachable', async () => {
    const nothingThere = await freePort();
    const example = runExample(file, { PORT: String(await freePort()), REDIS_URL: `redis://127.0.0.1:${nothingThere}` });
    try {
      expect(await example.exited).toBe(1);
      const lines = example.output().trim().split('\n');
      expect(lines.at(-1)).toMatch(new RegExp(`^Cannot start the example: Could not connect to redis://127\\.0\\.0\\.1:${nothingThere}: connection refused .*Start redis-server`));
      // Refused at start-up: that line alone, at once, without connection errors logged before it.
      expect(example.output()).not.toContain('[agent-session] Redis');
      expect(example.output()).not.toMatch(/^\s+at /m);
    } finally {
      await stop(example);
    }
  });
});

describe('the demo with the observer worker beside it', () => {
  it('POST /chat queues an observation, the worker analyses it, and GET /state shows the notes', async () => {
    // A private server: the worker serves every job under the default prefix.
    const redis = await startRedisServer();
    const port = await freePort();
    const server = runExample('examples/express-server.ts', { PORT: String(port), REDIS_URL: redis.url });
    const worker = runExample('examples/observer-worker.ts', { REDIS_URL: redis.url });
    try {
      await listening(server, `http://localhost:${port}`);
      const browser = new Browser(`http://127.0.0.1:${port}`, {});
      expect((await browser.post('/login', { userId: 'ada' })).status).toBe(200);
      expect((await browser.post('/chat', { message: 'Where is my order? It has not arrived.' })).status).toBe(200);

      let observer: Record<string, unknown> = {};
      await eventually('the observer notes to cover the chat', async () => {
        observer = (await browser.get('/state')).body.observer;
        return observer.ready === true && observer.coversThroughSeq === 2;
      }, 20_000);
      expect(observer).toMatchObject({
        stale: false,
        lagTurns: 0,
        notes: { intent: 'order status', turnsAnalyzed: 2, followUps: expect.arrayContaining(['Ask for the order number.']) },
      });
    } finally {
      await Promise.all([stop(server), stop(worker)]);
      await redis.dispose();
    }
  });
});
