import { describe, expect, it } from 'vitest';
import { createAgentStore } from 'agent-session';
import { FRAMEWORKS } from './apps.js';
import { Browser, VIA_HTTPS_PROXY } from './browser.js';
import { dump, useFixture } from './fixture.js';

const fixture = useFixture();

/** Well below the 1 h idle timeout, so that any TOUCH would show as a PTTL that went up. */
const AGED_MS = 600_000;

/**
 * Ages every key under `prefix` and returns their dump, and a check that the
 * keys are still there with the same values and TTLs that only counted down.
 */
async function ageAndWatch(prefix: string): Promise<() => Promise<void>> {
  const keys = Object.keys(await dump(fixture.inspector, prefix));
  expect(keys).not.toEqual([]);
  for (const key of keys) await fixture.inspector.pExpire(key, AGED_MS);
  const before = await dump(fixture.inspector, prefix);
  return async () => {
    const after = await dump(fixture.inspector, prefix);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const [key, { value, pttl }] of Object.entries(after)) {
      expect(value, key).toEqual(before[key]!.value);
      expect(pttl, key).toBeGreaterThan(0);
      expect(pttl, key).toBeLessThanOrEqual(before[key]!.pttl);
    }
  };
}

describe.each(FRAMEWORKS)('%s: user binding', (framework) => {
  it('answers 403 where a request by another user uses the agent, and touches nothing, not even the TTL', async () => {
    const app = await fixture.app(framework);
    const alice = new Browser(app);
    await alice.post('/login', { userId: 'alice' });
    const { agentSessionId: id } = (await alice.post('/turn', { content: 'mine' })).body as { agentSessionId: string };
    const untouched = await ageAndWatch(`${app.prefix}{${id}}`);

    // Alice's cookie, but the request authenticates as bob (the x-user header stands in for a bearer token).
    const bob = alice.clone({ ...VIA_HTTPS_PROXY, 'x-user': 'bob' });
    for (const send of [() => bob.get('/state'), () => bob.post('/turn', { content: 'not yours' }), () => bob.post('/tool')]) {
      const refused = await send();
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ error: 'session_user_mismatch' });
    }
    // A route that does not use the agent is served; the agent keys are not refreshed for bob.
    expect((await bob.get('/noop')).status).toBe(204);
    expect((await bob.post('/visit')).status).toBe(200);

    await untouched();
    expect((await alice.get('/state')).body).toMatchObject({ agentSessionId: id, userId: 'alice', turnCount: 1 });
  });

  it('does not lock out a browser whose user logged out by regenerate(): it can log in as someone else', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    await browser.post('/login', { userId: 'alice' });
    const { agentSessionId: aliceId } = (await browser.post('/turn', { content: 'mine' })).body as { agentSessionId: string };

    // passport >= 0.6 logout: the user is forgotten, the cookie session regenerated (the agent link moves across).
    expect((await browser.post('/logout')).status).toBe(204);
    const untouched = await ageAndWatch(`${app.prefix}{${aliceId}}`);

    // Anonymous now: routes that do not use the agent work; one that does is refused, as it would be for any other user.
    expect((await browser.get('/noop')).status).toBe(204);
    expect((await browser.post('/visit')).status).toBe(200);
    expect((await browser.get('/state')).status).toBe(403);

    const login = await browser.post('/login', { userId: 'bob' });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ userId: 'bob', agentSessionId: null });
    const turn = await browser.post('/turn', { content: "bob's own" });
    expect(turn.status).toBe(200);
    expect(turn.body.agentSessionId).not.toBe(aliceId);
    expect((await browser.get('/state')).body).toMatchObject({ userId: 'bob', turnCount: 1, turns: [{ content: "bob's own" }] });

    // Alice's conversation was left as it was, to expire on its own.
    await untouched();
  });

  it('serves an anonymous request on a session bound by an expired token, without refreshing the bound state', async () => {
    const app = await fixture.app(framework);
    const withToken = new Browser(app, { ...VIA_HTTPS_PROXY, 'x-user': 'alice' });
    const { agentSessionId: id } = (await withToken.post('/turn', { content: 'with a token' })).body as { agentSessionId: string };
    const untouched = await ageAndWatch(`${app.prefix}{${id}}`);

    const expired = withToken.clone(VIA_HTTPS_PROXY);
    expect((await expired.get('/noop')).status).toBe(204);
    expect((await expired.get('/state')).status).toBe(403);
    await untouched();
  });

  it('answers 403 when Redis refuses the user (the binding in Redis is the last word), without refreshing the TTL', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    const { agentSessionId: id } = (await browser.post('/turn', { content: 'anonymous so far' })).body as { agentSessionId: string };
    // Bound to carol elsewhere (another worker, through the core): the cookie session does not know.
    await createAgentStore({ redis: fixture.redis, keyPrefix: app.prefix }).session(id, { user: 'carol' }).meta();
    const untouched = await ageAndWatch(`${app.prefix}{${id}}`);

    const dave = browser.clone({ ...VIA_HTTPS_PROXY, 'x-user': 'dave' });
    for (const send of [() => dave.post('/turn', { content: 'hello?' }), () => dave.get('/state')]) {
      const refused = await send();
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ error: 'session_user_mismatch' });
    }
    // Served; the end-of-request refresh passes dave as the caller, so Redis refuses to touch carol's keys.
    expect((await dave.get('/noop')).status).toBe(204);
    await untouched();
    expect(await fixture.inspector.hGet(`${app.prefix}{${id}}:meta`, 'turnCount')).toBe('1');

    // detach() lets dave start over in the same cookie session, under a new agent session id.
    expect((await dave.post('/detach')).status).toBe(204);
    const fresh = await dave.post('/turn', { content: 'my own now' });
    expect(fresh.status).toBe(200);
    expect(fresh.body.agentSessionId).not.toBe(id);
    expect((await dave.get('/state')).body).toMatchObject({ userId: 'dave', turnCount: 1 });
    await untouched();
  });
});
