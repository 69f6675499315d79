import { describe, expect, it } from 'vitest';
import { createAgentStore } from 'agent-session';
import { FRAMEWORKS } from './apps.js';
import { Browser, VIA_HTTPS_PROXY } from './browser.js';
import { dump, useFixture } from './fixture.js';

const fixture = useFixture();

describe.each(FRAMEWORKS)('%s: user binding', (framework) => {
  it('answers 403 to a request by another user, before touching the agent state', async () => {
    const app = await fixture.app(framework);
    const alice = new Browser(app);
    await alice.post('/login', { userId: 'alice' });
    const { agentSessionId: id } = (await alice.post('/turn', { content: 'mine' })).body as { agentSessionId: string };
    const agentPrefix = `${app.prefix}{${id}}`;
    const before = await dump(fixture.inspector, agentPrefix);

    // Alice's cookie, but the request authenticates as bob (the x-user header stands in for a bearer token).
    const bob = alice.clone({ ...VIA_HTTPS_PROXY, 'x-user': 'bob' });
    for (const path of ['/state', '/noop']) {
      const refused = await bob.get(path);
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ error: 'session_user_mismatch' });
    }
    const refused = await bob.post('/turn', { content: 'not yours' });
    expect(refused.status).toBe(403);

    // Keys, values and TTLs exactly as before (PTTL only counts down).
    const after = await dump(fixture.inspector, agentPrefix);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const [key, { value, pttl }] of Object.entries(after)) {
      expect(value, key).toEqual(before[key]!.value);
      expect(pttl, key).toBeLessThanOrEqual(before[key]!.pttl);
    }
    expect((await alice.get('/state')).body).toMatchObject({ agentSessionId: id, userId: 'alice', turnCount: 1 });
  });

  it('answers 403 when Redis refuses the user (the binding in Redis is the last word)', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    const { agentSessionId: id } = (await browser.post('/turn', { content: 'anonymous so far' })).body as { agentSessionId: string };
    // Bound to carol elsewhere (another worker, through the core): the cookie session does not know.
    await createAgentStore({ redis: fixture.redis, keyPrefix: app.prefix }).session(id, { caller: 'carol' }).meta();

    const dave = browser.clone({ ...VIA_HTTPS_PROXY, 'x-user': 'dave' });
    const refused = await dave.post('/turn', { content: 'hello?' });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: 'session_user_mismatch' });
    expect(await fixture.inspector.hGet(`${app.prefix}{${id}}:meta`, 'turnCount')).toBe('1');
  });
});
