/*
 * AFTER THE MERGE: the examples load agent-session/archive when DATABASE_URL
 * is set, and this file needs the run's PostgreSQL database (inject('pgUrl'),
 * from the global setup of the pg-archive branch). Until both are on this
 * branch it neither type-checks nor runs; that is expected.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { freePort, startRedisServer } from '../harness/redis-server.js';
import { rawClient } from '../harness/store.js';
import { eventually } from '../harness/wait.js';
import { Browser } from '../middleware/browser.js';
import { listening, printed, runExample, stop } from './processes.js';

/**
 * The example servers with DATABASE_URL set, beside `npm run archiver`
 * (examples/archiver-worker.ts), each a real process: the cold tier's routes
 * answer alike in Express and Koa. Each test has a Redis of its own (one is
 * flushed) and users of its own (the examples share the default schema of
 * the run's database).
 */
describe.each([
  ['Express', 'examples/express-server.ts'],
  ['Koa', 'examples/koa-server.ts'],
])('%s example server with the cold tier', (_name, file) => {
  it('lists, pages through and resumes the logged-in user\'s conversations, restored from PostgreSQL after a Redis flush', async () => {
    const redis = await startRedisServer();
    const port = await freePort();
    const env = { REDIS_URL: redis.url, DATABASE_URL: inject('pgUrl') };
    const server = runExample(file, { ...env, PORT: String(port) });
    const archiver = runExample('examples/archiver-worker.ts', env);
    const suffix = randomBytes(4).toString('hex');
    const [ada, eve] = [`ada-${suffix}`, `eve-${suffix}`];
    try {
      await Promise.all([listening(server, `http://localhost:${port}`), printed(archiver, 'archiver: copying')]);
      expect(server.output()).toContain('cold tier on:');
      expect(server.output()).not.toContain('cold tier off');
      const url = `http://127.0.0.1:${port}`;
      const browser = new Browser(url, {});

      for (const response of [await browser.get('/conversations'), await browser.post('/conversations/abc/resume'), await browser.get('/history')]) {
        expect(response.status).toBe(401);
        expect(response.body).toEqual({ error: 'login_required' });
      }

      const { agentSessionId: first } = (await browser.post('/login', { userId: ada })).body as { agentSessionId: string };
      for (const message of ['one', 'two', 'three']) expect((await browser.post('/chat', { message })).status).toBe(200);

      await eventually('the conversation to be listed with its 6 turns', async () => {
        const { conversations } = (await browser.get('/conversations')).body as { conversations: Array<{ id: string; turnCount: number }> };
        return conversations[0]?.id === first && conversations[0].turnCount === 6;
      }, 20_000);
      expect((await browser.get('/conversations')).body).toEqual({
        conversations: [{ id: first, turnCount: 6, createdAt: expect.any(Number), lastActive: expect.any(Number) }],
      });

      const seqs = async (query: string) => ((await browser.get(`/history${query}`)).body.turns as Array<{ seq: number }>).map((turn) => turn.seq);
      expect(await seqs('?limit=2')).toEqual([5, 6]);
      expect(await seqs('?beforeSeq=5&limit=2')).toEqual([3, 4]);
      expect(await seqs('?beforeSeq=3')).toEqual([1, 2]);
      expect((await browser.get('/history?beforeSeq=soon')).status).toBe(400);

      const other = new Browser(url, {});
      expect((await other.post('/login', { userId: eve })).status).toBe(200);
      const refused = await other.post(`/conversations/${first}/resume`);
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ error: 'session_user_mismatch' });
      const unknown = await other.post(`/conversations/${randomBytes(24).toString('base64url')}/resume`);
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual({ error: 'conversation_not_found' });
      expect((await other.post('/conversations/not%20an%20id/resume')).status).toBe(404);
      const { conversations: eves } = (await other.get('/conversations')).body as { conversations: Array<{ id: string }> };
      expect(eves.map((conversation) => conversation.id)).not.toContain(first);

      // Redis loses everything, cookie sessions included: ada logs in again (a new conversation) and asks for the first back.
      const flusher = await rawClient(redis.url);
      await flusher.flushAll();
      await flusher.close();
      expect((await browser.get('/state')).status).toBe(401);
      const relogin = await browser.post('/login', { userId: ada });
      expect(relogin.status).toBe(200);
      expect(relogin.body.agentSessionId).not.toBe(first);

      const resumed = await browser.post(`/conversations/${first}/resume`);
      expect(resumed.status).toBe(200);
      expect(resumed.body).toEqual({ agentSessionId: first, turnCount: 6, restored: true });
      expect((await browser.post('/chat', { message: 'four' })).body).toEqual({ reply: expect.any(String), turnCount: 8 });
      expect((await browser.get('/state')).body).toMatchObject({ userId: ada, agentSessionId: first, turnCount: 8 });

      await Promise.all([stop(server), stop(archiver)]);
      expect(await server.exited).toBe(0);
      expect(await archiver.exited).toBe(0);
    } finally {
      await Promise.all([stop(server), stop(archiver)]);
      await redis.dispose();
    }
  });
});
