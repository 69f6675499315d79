import { describe, expect, it } from 'vitest';
import { FRAMEWORKS } from './apps.js';
import { Browser } from './browser.js';
import { agentKeys, useFixture } from './fixture.js';

const fixture = useFixture();

describe.each(FRAMEWORKS)('%s: a retried POST with the same message id', (framework) => {
  it('appends one turn: every retry, concurrent ones included, answers with the first seq', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    await browser.post('/login', { userId: 'alice' });

    const first = await browser.post('/turn', { content: 'hello', messageId: 'm-1' });
    expect(first.status).toBe(200);
    const retries = await Promise.all(Array.from({ length: 20 }, () => browser.clone().post('/turn', { content: 'hello', messageId: 'm-1' })));
    for (const retry of retries) expect(retry.body).toEqual(first.body);
    const other = await browser.post('/turn', { content: 'hello', messageId: 'm-2' });
    expect(other.body.seq).toBe(first.body.seq + 1);

    const state = await browser.get('/state');
    expect(state.body.turnCount).toBe(2);
    expect(state.body.turns.map((turn: { content: string }) => turn.content)).toEqual(['hello', 'hello']);
  });

  it('the same message id with another message is answered 409 idempotency_key_conflict, nothing written', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    await browser.post('/login', { userId: 'alice' });
    await browser.post('/turn', { content: 'hello', messageId: 'm-1' });
    const reused = await browser.post('/turn', { content: 'something else', messageId: 'm-1' });
    expect(reused.status).toBe(409);
    expect(reused.body).toEqual({ error: 'idempotency_key_conflict' });
    expect((await browser.get('/state')).body.turnCount).toBe(1);
  });

  it('an invalid message id is refused before the first write would create the agent session', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    await browser.post('/login', { userId: 'alice' });
    const refused = await browser.post('/turn', { content: 'hello', messageId: 'not a key!' });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(await agentKeys(fixture.inspector, app.prefix)).toEqual([]);
  });
});
