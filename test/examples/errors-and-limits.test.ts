import request from 'supertest';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SessionNotFoundError, ToolCallNotFoundError } from 'agent-session';
import { errorAnswer } from '../../examples/shared/errors.js';
import { freePort } from '../harness/redis-server.js';
import { Browser } from '../middleware/browser.js';
import { listening, runExample, stop, type Example } from './processes.js';

/**
 * The examples as a hostile client meets them (issue 10): they validate a
 * request before writing anything to the session, cap the body, and answer
 * every error as JSON without internals (no stack, no path, no stored or
 * sent value).
 */

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Nothing of the server's insides or of what was sent in an answer. */
function expectNoInternals(text: string, sent?: string): void {
  expect(text).not.toContain(root);
  expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/);
  expect(text).not.toMatch(/node_modules|Error:/);
  if (sent) expect(text).not.toContain(sent);
}

describe.each([
  ['Express', 'examples/express-server.ts'],
  ['Koa', 'examples/koa-server.ts'],
])('%s example: errors and limits', (_name, file) => {
  let example: Example;
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    example = runExample(file, { PORT: String(port), REDIS_URL: inject('redisUrl') });
    await listening(example, `http://localhost:${port}`);
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await stop(example);
  });

  it('refuses a bad user id at /login before writing the session: 400, no cookie', async () => {
    for (const userId of ['u'.repeat(257), '', 42, null, ['ada'], { id: 'ada' }]) {
      const browser = new Browser(url, {});
      const refused = await browser.post('/login', { userId });
      expect(refused.status, JSON.stringify(userId).slice(0, 20)).toBe(400);
      expect(refused.body).toEqual({ error: 'invalid_user_id' });
      expect(refused.headers['set-cookie']).toBeUndefined();
      expectNoInternals(refused.text, 'uuuuuuuu');
      expect((await browser.get('/state')).status).toBe(401);
    }
    expect((await new Browser(url, {}).post('/login', { userId: 'u'.repeat(256) })).status).toBe(200);
  });

  it('caps the body at 64 KiB: 413 JSON, nothing stored', async () => {
    const browser = new Browser(url, {});
    const refused = await browser.post('/login', { userId: 'ada', padding: 'p'.repeat(70 * 1024) });
    expect(refused.status).toBe(413);
    expect(refused.body).toEqual({ error: 'payload_too_large' });
    expect(refused.headers['set-cookie']).toBeUndefined();
    expectNoInternals(refused.text, 'pppppppp');
  });

  it('refuses a message over the library limit (32 KiB) or not a string: 400, no turn written', async () => {
    const browser = new Browser(url, {});
    expect((await browser.post('/login', { userId: 'ada' })).status).toBe(200);
    const tooLong = await browser.post('/chat', { message: 'm'.repeat(33 * 1024) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toEqual({ error: 'message_too_long' });
    expectNoInternals(tooLong.text, 'mmmmmmmm');
    for (const message of [42, ['hi'], { text: 'hi' }, '']) {
      const refused = await browser.post('/chat', { message });
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({ error: 'message_required' });
    }
    expect((await browser.get('/state')).body.turnCount).toBe(0);
  });

  it('answers malformed JSON with 400 JSON, without the parser error', async () => {
    const response = await request(url).post('/login').set('content-type', 'application/json').send('{"userId": "ada", oops');
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: 'invalid_json' });
    expectNoInternals(response.text, 'oops');
  });

  it('answers an unknown route with 404 JSON', async () => {
    for (const [method, path] of [['get', '/nope'], ['post', '/state'], ['get', '/login'], ['delete', '/chat']] as const) {
      const response = await request(url)[method](path);
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body).toEqual({ error: 'not_found' });
      expectNoInternals(response.text);
    }
  });
});

describe("the examples' error answers", () => {
  it('turn a tool call or conversation removed by a concurrent logout into 409, never 500', () => {
    expect(errorAnswer(new ToolCallNotFoundError('call_1'))).toEqual({ status: 409, body: { error: 'conversation_ended' } });
    expect(errorAnswer(new SessionNotFoundError('abc'))).toEqual({ status: 409, body: { error: 'conversation_ended' } });
  });

  it('answer anything unexpected with a bare 500', () => {
    const answer = errorAnswer(new Error(`ENOENT: no such file ${root}secret.json`));
    expect(answer).toEqual({ status: 500, body: { error: 'internal_error' } });
  });
});
