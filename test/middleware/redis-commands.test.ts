import { describe, expect, it } from 'vitest';
import { FRAMEWORKS } from './apps.js';
import { Browser } from './browser.js';
import { usePrivateRedis, useFixture } from './fixture.js';

// A private server, so that MONITOR counts only this file's commands.
const privateRedis = usePrivateRedis({ monitor: true });
const fixture = useFixture(() => privateRedis.server.url);

/** Command names only ("EVALSHA", not its sha). */
const names = (commands: string[]) => commands.map((command) => command.split(' ')[0]!.toUpperCase());

describe.each(FRAMEWORKS)('%s: Redis commands per request', (framework) => {
  it('activity refresh costs one extra round trip: a request that does not use req.agent sends GET + (PEXPIRE ‖ agent TOUCH)', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    await browser.post('/login', { userId: 'alice' });
    // Each Lua script is loaded (EVAL) on first use; after that it is one EVALSHA.
    await browser.post('/turn', { content: 'warm up the scripts' });
    await browser.get('/state');
    await browser.get('/noop');

    const touch = names(await privateRedis.counter.during(() => browser.get('/noop')));
    expect(touch.sort()).toEqual(['EVALSHA', 'GET', 'PEXPIRE']);
    // An agent call already reset the agent TTL, so the end of the request sends no TOUCH.
    const read = names(await privateRedis.counter.during(() => browser.get('/state')));
    expect(read.sort()).toEqual(['EVALSHA', 'GET', 'PEXPIRE']);
    const append = names(await privateRedis.counter.during(() => browser.post('/turn', { content: 'hello' })));
    expect(append.sort()).toEqual(['EVALSHA', 'GET', 'PEXPIRE']);
  });
});
