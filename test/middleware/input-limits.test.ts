import { describe, expect, it } from 'vitest';
import { FRAMEWORKS } from './apps.js';
import { Browser } from './browser.js';
import { dump, useFixture } from './fixture.js';
import { keysUnder } from '../harness/store.js';
import { InvalidInputError } from 'agent-session';
import { boundedUserOf } from '../../src/request/input-limits.js';

/**
 * Unbounded inputs (issue 10): a 32 MB user id reached a script and a 33.5 MB
 * cookie session was stored for an hour. The user id `getUserId` returns
 * and the size of a stored cookie session are bounded; past either bound the
 * request gets a typed answer and nothing is written.
 */

const fixture = useFixture();

describe('the user id bound', () => {
  it('counts UTF-8 bytes: 128 two-byte characters are 256 bytes, one more is over', () => {
    const userOf = boundedUserOf((id: string) => id, 256);
    expect(userOf('é'.repeat(128))).toBe('é'.repeat(128));
    expect(() => userOf('é'.repeat(129))).toThrow(InvalidInputError);
    expect(() => userOf('é'.repeat(129))).toThrow('258 bytes, over the limit of 256 bytes');
    expect(userOf('')).toBe('');
  });
});

describe.each(FRAMEWORKS)('%s: input limits', (framework) => {
  it('refuses a user id over maxUserIdBytes (default 256) with 400 input_invalid, and writes nothing', async () => {
    const app = await fixture.app(framework);
    const browser = new Browser(app);
    const refused = await browser.post('/turn', { content: 'hello' }, { 'x-user': 'u'.repeat(257) });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ error: 'input_invalid' });
    expect(refused.text).not.toContain('uuuu');
    expect(await keysUnder(fixture.inspector, app.prefix)).toEqual([]);

    const accepted = await browser.post('/turn', { content: 'hello' }, { 'x-user': 'u'.repeat(256) });
    expect(accepted.status).toBe(200);
  });

  it('takes a larger maxUserIdBytes', async () => {
    const app = await fixture.app(framework, { maxUserIdBytes: 1_000 });
    const accepted = await new Browser(app).post('/turn', { content: 'hello' }, { 'x-user': 'u'.repeat(900) });
    expect(accepted.status).toBe(200);
  });

  it('refuses to store a cookie session over maxSessionBytes (default 64 KiB) with 413 payload_too_large, keeping the stored one', async () => {
    const logged: string[] = [];
    const app = await fixture.app(framework, { logger: (event) => logged.push(`${event.type}:${event.code}`) });
    const browser = new Browser(app);
    expect((await browser.post('/visit')).status).toBe(200);
    const before = await dump(fixture.inspector, app.prefix);
    expect(Object.keys(before)).toHaveLength(1);

    const refused = await browser.post('/remember', { note: 'n'.repeat(70 * 1024) });
    expect(refused.status).toBe(413);
    expect(refused.body).toEqual({ error: 'payload_too_large' });
    expect(refused.text).not.toContain('nnnn');
    // The refusal is the answer, not a failure to report as well.
    expect(logged.filter((entry) => entry.startsWith('error:'))).toEqual([]);
    // The stored session is the one from before; its TTL may only have counted down.
    const after = await dump(fixture.inspector, app.prefix);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const [key, { value }] of Object.entries(after)) expect(value).toEqual(before[key]!.value);

    // The browser's session still works.
    expect((await browser.post('/visit')).body).toEqual({ visits: 2 });
  });

  it('stores nothing for a new session over the limit', async () => {
    const app = await fixture.app(framework);
    const refused = await new Browser(app).post('/remember', { note: 'n'.repeat(70 * 1024) });
    expect(refused.status).toBe(413);
    expect(await keysUnder(fixture.inspector, app.prefix)).toEqual([]);
  });

  it('does not lock out a browser whose stored session is over a limit lowered since: unchanged requests and logout work', async () => {
    const before = await fixture.app(framework, { maxSessionBytes: 200_000 });
    const browser = new Browser(before);
    expect((await browser.post('/remember', { note: 'n'.repeat(70 * 1024) })).status).toBe(200);

    const after = await fixture.app(framework, { keyPrefix: before.prefix });
    const same = new Browser(after);
    for (const [name, value] of browser.cookies) same.cookies.set(name, value);
    expect((await same.get('/noop')).status).toBe(204);
    expect((await same.post('/visit')).status).toBe(413);
    // Logging out regenerates the session: express-session starts an empty one (204); koa-session carries the data
    // over to the new id, which is still too large (413), after removing the old one. Either way the browser starts afresh.
    expect((await same.post('/logout')).status).toBe(framework === 'express' ? 204 : 413);
    expect((await same.post('/visit')).body).toEqual({ visits: 1 });
  });

  it('takes a larger maxSessionBytes', async () => {
    const app = await fixture.app(framework, { maxSessionBytes: 200_000 });
    const browser = new Browser(app);
    expect((await browser.post('/remember', { note: 'n'.repeat(70 * 1024) })).status).toBe(200);
    expect(await keysUnder(fixture.inspector, app.prefix)).toHaveLength(1);
  });
});
