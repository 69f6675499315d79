import { describe, expect, it } from 'vitest';
import { FRAMEWORKS } from './apps.js';
import { Browser, VIA_HTTPS_PROXY } from './browser.js';
import { useFixture } from './fixture.js';
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

describe.each(FRAMEWORKS)('%s: the cold tier calls, where Redis alone answers', (framework) => {
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
