import { describe, expect, it } from 'vitest';
import { FRAMEWORKS } from './apps.js';
import { Browser } from './browser.js';
import { useFixture } from './fixture.js';

const fixture = useFixture();

describe.each(FRAMEWORKS)('%s: concurrent requests on one session', (framework) => {
  it('100 concurrent turn appends through HTTP leave exactly 100 turns', async () => {
    const app = await fixture.app(framework, { maxTurns: 200 });
    const browser = new Browser(app);
    await browser.post('/login', { userId: 'alice' });
    const before = await browser.get('/state');
    expect(before.body.turnCount).toBe(0);

    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => browser.clone().post('/turn', { content: `message ${i}` })),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(200));
    const ids = new Set(responses.map((response) => response.body.agentSessionId));
    expect(ids.size).toBe(1);

    const state = await browser.get('/state');
    expect(state.body.turnCount).toBe(100);
    expect(state.body.turns.map((turn: { seq: number }) => turn.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(new Set(state.body.turns.map((turn: { content: string }) => turn.content)).size).toBe(100);
  });
});
