import { describe, expect, it } from 'vitest';
import { FRAMEWORKS } from './apps.js';
import { Browser, VIA_HTTPS_PROXY } from './browser.js';
import { dump, useFixture } from './fixture.js';
import { unreachedTier } from './unreached-tier.js';

/**
 * req.agent / ctx.agent's cold tier calls where Redis alone decides: without
 * a cold tier, the refusals that come before any archive read, resuming a
 * conversation that is still in Redis, and the 503s of the cold tier's
 * errors. The apps here archive into `unreachedTier()`, which fails the test
 * if it is reached; the calls that do read PostgreSQL are tested against it
 * in cold-tier.test.ts.
 */
const fixture = useFixture();

/** Well below the 1 h idle timeout, so that any TOUCH would show as a PTTL that went up. */
const AGED_MS = 600_000;

/** Ages every key under `prefix`; the returned check fails if any of them was written, created or touched since. */
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
      expect(pttl, key).toBeLessThanOrEqual(before[key]!.pttl);
    }
  };
}

async function loggedIn(app: { server: import('node:http').Server }, userId: string): Promise<Browser> {
  const browser = new Browser(app);
  expect((await browser.post('/login', { userId })).status).toBe(200);
  return browser;
}

describe.each(FRAMEWORKS)('%s: the cold tier calls without a cold tier', (framework) => {
  it('resume, history and conversations throw ConfigError saying how to configure it, with or without an agent session, and write nothing', async () => {
    const app = await fixture.app(framework);
    const browser = await loggedIn(app, 'alice');
    const calls = [
      () => browser.post('/resume', { id: 'a'.repeat(32) }),
      () => browser.post('/history', {}),
      () => browser.get('/conversations'),
    ];
    for (const call of calls) {
      const refused = await call();
      expect(refused.status).toBe(500);
      expect(refused.body).toEqual({ code: 'CONFIG_INVALID', message: expect.stringContaining('archive: { tier: createPgArchive({ connectionString }) }') });
    }
    expect(Object.keys(await dump(fixture.inspector, `${app.prefix}{`))).toEqual([]);

    // Not only before the first write: the call is refused up front, not once a conversation happens to have left Redis.
    expect((await browser.post('/turn', { content: 'hello' })).status).toBe(200);
    for (const call of calls) expect((await call()).body.code).toBe('CONFIG_INVALID');
  });
});

describe.each(FRAMEWORKS)('%s: the cold tier calls, where Redis alone answers', (framework) => {
  it('resumes a conversation of the same user that is still in Redis: linked, restored: false, its seq continues', async () => {
    const tier = unreachedTier();
    const app = await fixture.app(framework, { archive: { tier } });
    const laptop = await loggedIn(app, 'alice');
    await laptop.post('/turn', { content: 'one' });
    const { agentSessionId: first } = (await laptop.post('/turn', { content: 'two' })).body as { agentSessionId: string };
    const phone = await loggedIn(app, 'alice');
    const { agentSessionId: second } = (await phone.post('/turn', { content: 'elsewhere' })).body as { agentSessionId: string };

    const resumed = await phone.post('/resume', { id: first });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toEqual({ agentSessionId: first, turnCount: 2, restored: false });
    const next = await phone.post('/turn', { content: 'three' });
    expect(next.body).toEqual({ seq: 3, agentSessionId: first });
    expect((await phone.get('/state')).body).toMatchObject({ agentSessionId: first, userId: 'alice', turnCount: 3 });
    // The conversation the phone left is as it was, to expire on its own.
    expect(await fixture.inspector.hGet(`${app.prefix}{${second}}:meta`, 'turnCount')).toBe('1');
    expect(tier.calls).toEqual([]);
  });

  it("refuses with 403 to resume another user's conversation, and reads, touches and links nothing", async () => {
    const tier = unreachedTier();
    const app = await fixture.app(framework, { archive: { tier } });
    const alice = await loggedIn(app, 'alice');
    const { agentSessionId: hers } = (await alice.post('/turn', { content: 'private' })).body as { agentSessionId: string };
    const bob = await loggedIn(app, 'bob');
    const { agentSessionId: his } = (await bob.post('/turn', { content: 'mine' })).body as { agentSessionId: string };
    const untouched = await ageAndWatch(`${app.prefix}{${hers}}`);

    const anonymous = new Browser(app);
    for (const browser of [bob, anonymous]) {
      const refused = await browser.post('/resume', { id: hers });
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ error: 'session_user_mismatch' });
    }
    await untouched();
    // Bob is still on his own conversation, and may go on with it.
    expect((await bob.get('/state')).body).toMatchObject({ agentSessionId: his, userId: 'bob', turnCount: 1 });
    expect((await bob.post('/turn', { content: 'still mine' })).body).toEqual({ seq: 2, agentSessionId: his });
    expect(tier.calls).toEqual([]);
  });

  it('an anonymous request: conversations() is refused (USER_REQUIRED, 401 here); history() is empty while there is no agent session', async () => {
    const tier = unreachedTier();
    const app = await fixture.app(framework, { archive: { tier } });
    const anonymous = new Browser(app);

    const listing = await anonymous.get('/conversations');
    expect(listing.status).toBe(401);
    expect(listing.body).toEqual({ code: 'USER_REQUIRED', message: expect.stringContaining('Answer 401') });
    expect(await anonymous.post('/history', {})).toMatchObject({ status: 200, body: { turns: [] } });
    expect(tier.calls).toEqual([]);
  });

  it('answers 503 archive_backlog_full with Retry-After when the archive backlog is full, and writes nothing', async () => {
    const tier = unreachedTier();
    // No archiver runs: the backlog fills with the creation and the first turn.
    const app = await fixture.app(framework, { archive: { tier, maxBacklog: 2 }, retryAfterSeconds: 7 });
    const browser = new Browser(app);
    const { agentSessionId: id } = (await browser.post('/turn', { content: 'fits' })).body as { agentSessionId: string };
    expect(await fixture.inspector.lLen(`${app.prefix}{${id}}:archive`)).toBe(2);

    const refused = await browser.post('/turn', { content: 'does not fit' });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('7');
    expect(refused.body).toEqual({ error: 'archive_backlog_full' });
    expect((await browser.get('/state')).body).toMatchObject({ agentSessionId: id, turnCount: 1, turns: [{ content: 'fits' }] });
    expect(await fixture.inspector.lLen(`${app.prefix}{${id}}:archive`)).toBe(2);
    expect(tier.calls).toEqual([]);
  });

  it('answers 503 archive_unavailable with Retry-After when a route fails on an archive that does not answer', async () => {
    const app = await fixture.app(framework, { archive: { tier: unreachedTier() }, retryAfterSeconds: 7 });
    const response = await new Browser(app, VIA_HTTPS_PROXY).post('/archive-down');
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('7');
    expect(response.body).toEqual({ error: 'archive_unavailable' });
  });
});
