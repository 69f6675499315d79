import { describe, expect, inject, it } from 'vitest';
import { freePort } from '../harness/redis-server.js';
import { Browser } from '../middleware/browser.js';
import { listening, runExample, stop } from './processes.js';

/**
 * The examples' retry contract: a client sends its own id for each chat
 * message (body `messageId` or an `Idempotency-Key` header); a POST /chat
 * retried with the same id (after a 503 or a timeout) appends nothing more
 * and answers as the first one did.
 */
describe.each([
  ['Express', 'examples/express-server.ts'],
  ['Koa', 'examples/koa-server.ts'],
])('%s example: POST /chat with a message id', (_name, file) => {
  it('a retry with the same id adds no turn and no tool call; another id does; a reused id with another message is 409', async () => {
    const port = await freePort();
    const example = runExample(file, { PORT: String(port), REDIS_URL: inject('redisUrl') });
    try {
      await listening(example, `http://localhost:${port}`);
      const browser = new Browser(`http://127.0.0.1:${port}`, {});
      expect((await browser.post('/login', { userId: 'ada' })).status).toBe(200);

      const first = await browser.post('/chat', { message: 'hello there', messageId: 'msg-1' });
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ reply: expect.any(String), turnCount: 2 });
      const retried = await browser.post('/chat', { message: 'hello there', messageId: 'msg-1' });
      expect(retried.status).toBe(200);
      expect(retried.body).toEqual(first.body);
      // The header works as well, and concurrent retries too.
      const viaHeader = await Promise.all(
        Array.from({ length: 5 }, () => browser.post('/chat', { message: 'hello there' }, { 'Idempotency-Key': 'msg-1' })),
      );
      for (const response of viaHeader) expect(response.body).toEqual(first.body);

      const state = await browser.get('/state');
      expect(state.body.turnCount).toBe(2);
      expect(state.body.toolCalls).toHaveLength(1);
      expect(state.body.toolCalls[0]).toMatchObject({ status: 'completed' });

      const next = await browser.post('/chat', { message: 'hello there', messageId: 'msg-2' });
      expect(next.body.turnCount).toBe(4);
      const withoutId = await browser.post('/chat', { message: 'hello there' });
      expect(withoutId.body.turnCount).toBe(6);

      const reused = await browser.post('/chat', { message: 'something else', messageId: 'msg-1' });
      expect(reused.status).toBe(409);
      expect(reused.body).toEqual({ error: 'idempotency_key_conflict' });
      const invalid = await browser.post('/chat', { message: 'hello', messageId: 'not valid!' });
      expect(invalid.status).toBe(400);
      expect(invalid.body).toEqual({ error: 'invalid_message_id' });
      expect((await browser.get('/state')).body.turnCount).toBe(6);
    } finally {
      await stop(example);
    }
  });
});
