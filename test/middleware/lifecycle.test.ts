import { describe, expect, it } from 'vitest';
import { SessionStore } from '../../src/core/agent-store.js';
import { EXPIRED_GRACE_MS } from '../../src/koa/store.js';
import { eventually } from '../harness/wait.js';
import { FRAMEWORKS } from './apps.js';
import { Browser, VIA_HTTPS_PROXY } from './browser.js';
import { agentKeys, cookieSessionKeys, useFixture } from './fixture.js';

const fixture = useFixture();

describe.each(FRAMEWORKS)('%s: agent session lifecycle', (framework) => {
  it('creates the agent session lazily: reads are empty and create nothing, the first write creates it', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);

    // A request that uses the cookie session but not req.agent creates no agent keys.
    expect((await browser.post('/visit')).status).toBe(200);
    expect(await cookieSessionKeys(fixture.inspector, app.prefix)).toHaveLength(1);
    expect(await agentKeys(fixture.inspector, app.prefix)).toEqual([]);

    // Reads before the first write are empty and create nothing either.
    const empty = await browser.get('/state');
    expect(empty.body).toEqual({ agentSessionId: null, userId: null, turnCount: 0, turns: [], toolCalls: [], notes: { ready: false } });
    expect(await agentKeys(fixture.inspector, app.prefix)).toEqual([]);

    const first = await browser.post('/turn', { content: 'hello' });
    expect(first.status).toBe(200);
    expect(first.body.seq).toBe(1);
    const id = first.body.agentSessionId as string;
    expect(await agentKeys(fixture.inspector, app.prefix)).toEqual([`${app.prefix}{${id}}:meta`, `${app.prefix}{${id}}:turns`]);

    const state = await browser.get('/state');
    expect(state.body).toMatchObject({ agentSessionId: id, turnCount: 1, turns: [{ seq: 1, role: 'user', content: 'hello' }] });
    expect(state.body.notes).toEqual({ ready: false });

    // Observer notes written through the core show up in req.agent.notes().
    const store = new SessionStore({ redis: fixture.redis, keyPrefix: app.prefix });
    await store.session(id, { trusted: 'observer' }).writeNotes({ intent: 'greeting' }, { coversThroughSeq: 1 });
    const withNotes = await browser.get('/state');
    expect(withNotes.body.notes).toMatchObject({ ready: true, stale: false, lagTurns: 0, notes: { intent: 'greeting' } });
  });

  it('keeps the agent state across regenerate() on login, and binds it to the user', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    const anonymous = await browser.post('/turn', { content: 'before login' });
    const id = anonymous.body.agentSessionId as string;
    const oldCookies = browser.clone();

    const login = await browser.post('/login', { userId: 'alice' });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ userId: 'alice', agentSessionId: id });
    expect(browser.cookieHeader()).not.toBe(oldCookies.cookieHeader()); // a new cookie session id

    await browser.post('/turn', { content: 'after login' });
    const state = await browser.get('/state');
    expect(state.body).toMatchObject({ agentSessionId: id, userId: 'alice', turnCount: 2 });
    expect(state.body.turns.map((turn: { content: string }) => turn.content)).toEqual(['before login', 'after login']);
    const meta = await fixture.inspector.hGetAll(`${app.prefix}{${id}}:meta`);
    expect(meta.userId).toBe('alice');

    // The pre-login cookie session is gone: replaying it gets a fresh, empty session.
    const replay = await oldCookies.get('/state');
    expect(replay.body).toMatchObject({ agentSessionId: null, turnCount: 0 });
  });

  it('resets the TTL of the cookie session and of every agent key on each request', async () => {
    const idleTimeoutMs = 600_000;
    const app = await fixture.app(framework, { idleTimeoutMs });
    const browser = new Browser(app);
    const { agentSessionId: id } = (await browser.post('/turn', { content: 'hi' })).body as { agentSessionId: string };
    await browser.post('/tool');
    await new SessionStore({ redis: fixture.redis, keyPrefix: app.prefix }).session(id, { trusted: 'observer' }).writeNotes({ s: 1 }, { coversThroughSeq: 1 });
    const stored = [...(await cookieSessionKeys(fixture.inspector, app.prefix)), ...(await agentKeys(fixture.inspector, app.prefix))];
    expect(stored.map((key) => key.slice(app.prefix.length))).toEqual([
      expect.stringMatching(/^sess:/),
      `{${id}}:meta`,
      `{${id}}:observer`,
      `{${id}}:tool-order`,
      `{${id}}:tools`,
      `{${id}}:turns`,
    ]);
    // The tool-call order has a lifetime of its own: set with the tools hash's at each start, rebuilt from it when gone.
    const keys = stored.filter((key) => !key.endsWith(':tool-order'));

    // Koa keeps a cookie session EXPIRED_GRACE_MS past its max age (so that koa-session can report it expired).
    const grace = (key: string) => (framework === 'koa' && key.startsWith(`${app.prefix}sess:`) ? EXPIRED_GRACE_MS : 0);
    const age = () => Promise.all(keys.map((key) => fixture.inspector.pExpire(key, 5_000 + grace(key))));
    const expectFresh = async () => {
      for (const key of keys) {
        const pttl = await fixture.inspector.pTTL(key);
        expect(pttl, key).toBeGreaterThan(idleTimeoutMs + grace(key) - 60_000);
        expect(pttl, key).toBeLessThanOrEqual(idleTimeoutMs + grace(key));
      }
    };

    // A request that does not touch req.agent refreshes the agent keys too...
    await age();
    expect((await browser.get('/noop')).status).toBe(204);
    await expectFresh();
    // ...and so does one that reads the agent state.
    await age();
    expect((await browser.get('/state')).status).toBe(200);
    await expectFresh();
  });

  it('without the cold tier, starts an agent session that left Redis while its cookie session lived on afresh, under the same id', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    await browser.post('/turn', { content: 'one' });
    const { agentSessionId: id } = (await browser.post('/turn', { content: 'two' })).body as { agentSessionId: string };
    // Evicted (or expired sooner than the cookie session, which a TTL refresh on another node can cause).
    await fixture.inspector.del([`${app.prefix}{${id}}:meta`, `${app.prefix}{${id}}:turns`]);

    expect((await browser.get('/state')).body).toMatchObject({ agentSessionId: id, turnCount: 0, turns: [] });
    expect((await browser.post('/turn', { content: 'again' })).body).toEqual({ seq: 1, agentSessionId: id });
  });

  it('delete() removes the agent session, and the next write starts a new one under a new id', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app, { ...VIA_HTTPS_PROXY, 'x-user': 'alice' });
    const { agentSessionId: id } = (await browser.post('/turn', { content: 'forget me' })).body as { agentSessionId: string };

    expect((await browser.post('/delete')).status).toBe(204);
    expect(await agentKeys(fixture.inspector, app.prefix)).toEqual([]);
    expect((await browser.get('/state')).body).toMatchObject({ agentSessionId: null, turnCount: 0 });
    // Never the deleted id again: with the cold tier, the archive drops whatever is written under an erased id.
    const next = await browser.post('/turn', { content: 'a new conversation' });
    expect(next.body).toEqual({ seq: 1, agentSessionId: expect.any(String) });
    expect(next.body.agentSessionId).not.toBe(id);
  });

  it('does not revive an expired session when its cookie is presented again', async () => {
    const app = await fixture.app(framework, { idleTimeoutMs: 1_000 });
    const browser = new Browser(app);
    const { agentSessionId: id } = (await browser.post('/turn', { content: 'soon gone' })).body as { agentSessionId: string };
    const [sessionKey] = await cookieSessionKeys(fixture.inspector, app.prefix);
    const keys = [`${app.prefix}{${id}}:meta`, `${app.prefix}{${id}}:turns`];

    // The cookie session expires with them (Express), or is past its max age and kept a little longer to be reported expired (Koa).
    await eventually(
      'the agent keys to expire, and the cookie session to pass its max age',
      // Express: gone (it is written after the agent keys, so it can outlive them by the request's last milliseconds).
      async () => (await fixture.inspector.exists(keys)) === 0 && (await fixture.inspector.pTTL(sessionKey!)) < (framework === 'express' ? 0 : EXPIRED_GRACE_MS),
      10_000,
    );

    const late = await browser.get('/state');
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ agentSessionId: null, turnCount: 0, turns: [] });
    expect(await fixture.inspector.exists(keys)).toBe(0);
    expect(await agentKeys(fixture.inspector, app.prefix)).toEqual([]);
    // Not revived: gone, or (Koa) left to run out its grace.
    expect(await fixture.inspector.pTTL(sessionKey!)).toBeLessThan(EXPIRED_GRACE_MS);
  });
});
