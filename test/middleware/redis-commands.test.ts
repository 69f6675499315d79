import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAgentStore } from 'agent-session';
import { FRAMEWORKS, SECRET_A, type Framework } from './apps.js';
import { Browser, VIA_HTTPS_PROXY } from './browser.js';
import { usePrivateRedis, useFixture } from './fixture.js';
import { keysUnder } from '../harness/store.js';

// A private server, so that MONITOR counts only this file's commands.
const privateRedis = usePrivateRedis({ monitor: true });
const fixture = useFixture(() => privateRedis.server.url);

/**
 * A cookie session as an earlier version stored it: the same data under an
 * id without the agent tag (express-session's or koa-session's own ids),
 * with the browser's cookies signed for that id.
 */
async function asUntaggedSession(framework: Framework, browser: Browser, prefix: string): Promise<void> {
  const [key] = await keysUnder(fixture.inspector, `${prefix}sess:`);
  const sid = randomBytes(24).toString('base64url');
  await fixture.inspector.copy(key!, `${prefix}sess:${sid}`);
  await fixture.inspector.pExpire(`${prefix}sess:${sid}`, await fixture.inspector.pTTL(key!));
  if (framework === 'express') {
    const signature = createHmac('sha256', SECRET_A).update(sid).digest('base64').replace(/=+$/, '');
    browser.cookies.set('agent.sid', encodeURIComponent(`s:${sid}.${signature}`));
  } else {
    const signature = createHmac('sha1', SECRET_A).update(`agent.sid=${sid}`).digest('base64').replace(/\/|\+|=/g, (c) => ({ '/': '_', '+': '-', '=': '' })[c]!);
    browser.cookies.set('agent.sid', sid);
    browser.cookies.set('agent.sid.sig', signature);
  }
}

/** Command names only ("EVALSHA", not its sha). */
const names = (commands: string[]) => commands.map((command) => command.split(' ')[0]!.toUpperCase());

describe.each(FRAMEWORKS)('%s: Redis commands per request', (framework) => {
  it('touch sends one command: the load script reads the cookie session, extends it and touches the agent keys; read and append add their agent script', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    await browser.post('/login', { userId: 'alice' });
    // Each Lua script is loaded (EVAL) on first use; after that it is one EVALSHA.
    await browser.post('/turn', { content: 'warm up the scripts' });
    await browser.get('/state');
    await browser.get('/noop');

    const touch = names(await privateRedis.counter.during(() => browser.get('/noop')));
    expect(touch).toEqual(['EVALSHA']);
    // The load already extended the cookie session: the end of the request sends nothing.
    const read = names(await privateRedis.counter.during(() => browser.get('/state')));
    expect(read).toEqual(['EVALSHA', 'EVALSHA']);
    const append = names(await privateRedis.counter.during(() => browser.post('/turn', { content: 'hello' })));
    expect(append).toEqual(['EVALSHA', 'EVALSHA']);
  });

  it('a conversation started in the request that logged in (regenerated) is on the one-round-trip path', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    await browser.get('/noop');
    const { agentSessionId: id } = (await browser.post('/login-turn', { userId: 'alice', content: 'hello' })).body as { agentSessionId: string };
    const [key] = await keysUnder(fixture.inspector, `${app.prefix}sess:`);
    expect(key!.startsWith(`${app.prefix}sess:{${id}}`)).toBe(true);
    await browser.get('/noop');
    expect(names(await privateRedis.counter.during(() => browser.get('/noop')))).toEqual(['EVALSHA']);
  });

  it("after another user's login (detach, then regenerate) the new user's conversation is on the one-round-trip path too", async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    await browser.post('/login', { userId: 'alice' });
    await browser.post('/turn', { content: "alice's" });
    await browser.post('/login', { userId: 'bob' });
    const { agentSessionId: id } = (await browser.post('/turn', { content: "bob's" })).body as { agentSessionId: string };
    const [key] = await keysUnder(fixture.inspector, `${app.prefix}sess:`);
    expect(key).toBe(`${app.prefix}sess:{${id}}${key!.slice(`${app.prefix}sess:{${id}}`.length)}`);
    await browser.get('/noop');
    expect(names(await privateRedis.counter.during(() => browser.get('/noop')))).toEqual(['EVALSHA']);
  });

  it('a cookie session from before the tagged ids keeps working, with the round trips it had: touch 2, read 3, append 3', async () => {
    // Koa loads such a session with GET and PTTL issued together (one round trip): the TTL gives koa-session its _expire.
    const withLoad = (expected: string[]) => (framework === 'koa' ? [...expected, 'PTTL'] : expected).sort();
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    await browser.post('/login', { userId: 'alice' });
    const { agentSessionId: id } = (await browser.post('/turn', { content: 'before the upgrade' })).body as { agentSessionId: string };
    await asUntaggedSession(framework, browser, app.prefix);
    await browser.get('/noop');

    const touch = names(await privateRedis.counter.during(() => browser.get('/noop')));
    expect(touch.sort()).toEqual(withLoad(['EVALSHA', 'GET']));
    let state!: Awaited<ReturnType<Browser['get']>>;
    const read = names(await privateRedis.counter.during(async () => (state = await browser.get('/state'))));
    expect(read.sort()).toEqual(withLoad(['EVALSHA', 'GET', 'PEXPIRE']));
    expect(state.body).toMatchObject({ agentSessionId: id, userId: 'alice', turnCount: 1 });
    const append = names(await privateRedis.counter.during(() => browser.post('/turn', { content: 'after' })));
    expect(append.sort()).toEqual(withLoad(['EVALSHA', 'GET', 'PEXPIRE']));
  });

  it('a request that outlasts 1 % of the idle timeout extends the cookie session and touches the agent again as it ends', async () => {
    const idleTimeoutMs = 20_000;
    const app = await fixture.app(framework, { idleTimeoutMs });
    const browser = new Browser(app);
    await browser.post('/login', { userId: 'alice' });
    const { agentSessionId: id } = (await browser.post('/turn', { content: 'hello' })).body as { agentSessionId: string };
    await browser.post('/slow', { ms: 0 });
    await browser.post('/slow', { ms: idleTimeoutMs / 100 + 100 }); // the extension at the end is loaded too

    const quick = names(await privateRedis.counter.during(() => browser.post('/slow', { ms: 0 })));
    expect(quick).toEqual(['EVALSHA']);
    const slow = await privateRedis.counter.during(() => browser.post('/slow', { ms: idleTimeoutMs / 100 + 100 }));
    // The load, then one script that extends the cookie session and touches the agent keys (touch-along).
    expect(names(slow)).toEqual(['EVALSHA', 'EVALSHA']);
    const meta = `${app.prefix}{${id}}:meta`;
    expect(await fixture.inspector.pTTL(meta)).toBeGreaterThan(idleTimeoutMs - 1_000);
  });

  it('the first write sends three commands: CREATE and the write (issued together), then the new cookie session', async () => {
    const app = await fixture.app(framework);
    await new Browser(app).post('/turn', { content: 'load the scripts' });
    const browser = new Browser(app);
    const first = names(await privateRedis.counter.during(() => browser.post('/turn', { content: 'hello' })));
    expect(first).toEqual(['EVALSHA', 'EVALSHA', 'SET']);
  });

  it('a request by another user than the cookie session records undoes the touch the load made: lastActive and the TTL stay as they were', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    await browser.post('/login', { userId: 'alice' });
    const { agentSessionId: id } = (await browser.post('/turn', { content: 'mine' })).body as { agentSessionId: string };
    const bob = browser.clone({ ...VIA_HTTPS_PROXY, 'x-user': 'bob' });
    await bob.get('/noop'); // the untouch script loaded
    const meta = `${app.prefix}{${id}}:meta`;
    // Shorten the TTL so that a refresh would show.
    await fixture.inspector.pExpire(meta, 50_000);
    const before = await fixture.inspector.hGet(meta, 'lastActive');

    const noop = await privateRedis.counter.during(() => bob.get('/noop'));
    // The load (which touched alice's session as the cookie session's link says), then its undo.
    expect(names(noop)).toEqual(['EVALSHA', 'EVALSHA']);
    const refused = await privateRedis.counter.during(() => bob.get('/state'));
    expect(names(refused)).toEqual(['EVALSHA', 'EVALSHA']);
    expect(await fixture.inspector.hGet(meta, 'lastActive')).toBe(before);
    expect(await fixture.inspector.pTTL(meta)).toBeLessThanOrEqual(50_000);
  });

  it('a call the binding in Redis refuses is the last agent command of the request: no end-of-request TOUCH follows', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    const { agentSessionId: id } = (await browser.post('/turn', { content: 'anonymous so far' })).body as { agentSessionId: string };
    // Bound to carol elsewhere: the cookie session still records an anonymous agent session.
    await createAgentStore({ redis: fixture.redis, keyPrefix: app.prefix }).session(id, { user: 'carol' }).meta();
    const dave = browser.clone({ ...VIA_HTTPS_PROXY, 'x-user': 'dave' });
    await dave.get('/state'); // scripts loaded; refused

    let status = 0;
    const commands = await privateRedis.counter.during(async () => {
      status = (await dave.post('/turn', { content: 'hello?' })).status;
    });
    expect(status).toBe(403);
    // The load (which leaves carol's session alone: the link records no user), then the refused append.
    expect(names(commands)).toEqual(['EVALSHA', 'EVALSHA']);
  });

  it('detach() sends nothing for the agent session after the load: the request only rewrites its cookie session', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    await browser.post('/login', { userId: 'alice' });
    const { agentSessionId: id } = (await browser.post('/turn', { content: 'hello' })).body as { agentSessionId: string };

    const detach = await privateRedis.counter.during(() => browser.post('/detach'));
    // The load (it was still linked when the request came in), then the cookie session without the link.
    expect(names(detach)).toEqual(['EVALSHA', 'SET']);
    expect((await browser.get('/state')).body).toMatchObject({ agentSessionId: null, turnCount: 0 });
  });
});
