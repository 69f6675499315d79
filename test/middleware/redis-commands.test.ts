import { describe, expect, it } from 'vitest';
import { createAgentStore } from 'agent-session';
import { FRAMEWORKS } from './apps.js';
import { Browser, VIA_HTTPS_PROXY } from './browser.js';
import { usePrivateRedis, useFixture } from './fixture.js';

// A private server, so that MONITOR counts only this file's commands.
const privateRedis = usePrivateRedis({ monitor: true });
const fixture = useFixture(() => privateRedis.server.url);

/** Command names only ("EVALSHA", not its sha). */
const names = (commands: string[]) => commands.map((command) => command.split(' ')[0]!.toUpperCase());

describe.each(FRAMEWORKS)('%s: Redis commands per request', (framework) => {
  // Koa loads a cookie session with GET and PTTL, issued together (one round trip): the TTL gives koa-session its _expire.
  const withLoad = (expected: string[]) => (framework === 'koa' ? [...expected, 'PTTL'] : expected).sort();
  it('a request that does not use req.agent sends GET + one script that extends the cookie session and touches the agent keys', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    await browser.post('/login', { userId: 'alice' });
    // Each Lua script is loaded (EVAL) on first use; after that it is one EVALSHA.
    await browser.post('/turn', { content: 'warm up the scripts' });
    await browser.get('/state');
    await browser.get('/noop');

    const touch = names(await privateRedis.counter.during(() => browser.get('/noop')));
    expect(touch.sort()).toEqual(withLoad(['EVALSHA', 'GET']));
    // An agent call already reset the agent TTL, so the end of the request sends no TOUCH.
    const read = names(await privateRedis.counter.during(() => browser.get('/state')));
    expect(read.sort()).toEqual(withLoad(['EVALSHA', 'GET', 'PEXPIRE']));
    const append = names(await privateRedis.counter.during(() => browser.post('/turn', { content: 'hello' })));
    expect(append.sort()).toEqual(withLoad(['EVALSHA', 'GET', 'PEXPIRE']));
  });

  it('the first write sends three commands: CREATE and the write (issued together), then the new cookie session', async () => {
    const app = await fixture.app(framework);
    await new Browser(app).post('/turn', { content: 'load the scripts' });
    const browser = new Browser(app);
    const first = names(await privateRedis.counter.during(() => browser.post('/turn', { content: 'hello' })));
    expect(first).toEqual(['EVALSHA', 'EVALSHA', 'SET']);
  });

  it('a request by another user than the cookie session records sends no agent command, not even the TOUCH', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    await browser.post('/login', { userId: 'alice' });
    await browser.post('/turn', { content: 'mine' });
    const bob = browser.clone({ ...VIA_HTTPS_PROXY, 'x-user': 'bob' });

    const noop = await privateRedis.counter.during(() => bob.get('/noop'));
    expect(names(noop).sort()).toEqual(withLoad(['GET', 'PEXPIRE']));
    const refused = await privateRedis.counter.during(() => bob.get('/state'));
    expect(names(refused).sort()).toEqual(withLoad(['GET', 'PEXPIRE']));
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
    expect(names(commands).sort()).toEqual(withLoad(['EVALSHA', 'GET', 'PEXPIRE']));
  });

  it('detach() sends nothing for the agent session: the request only rewrites its cookie session', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    await browser.post('/login', { userId: 'alice' });
    const { agentSessionId: id } = (await browser.post('/turn', { content: 'hello' })).body as { agentSessionId: string };

    const detach = await privateRedis.counter.during(() => browser.post('/detach'));
    expect(names(detach).sort()).toEqual(withLoad(['GET', 'SET']));
    expect(detach.filter((command) => command.includes(id))).toEqual([]);
    expect((await browser.get('/state')).body).toMatchObject({ agentSessionId: null, turnCount: 0 });
  });
});
