/*
 * AFTER THE MERGE: this file needs agent-session/archive (createPgArchive,
 * createArchiver) and the run's PostgreSQL database (inject('pgUrl'), from the
 * global setup of the pg-archive branch). Until both are on this branch it
 * neither type-checks nor runs; that is expected.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createArchiver, createPgArchive } from 'agent-session/archive';
import { freePort } from '../harness/redis-server.js';
import { eventually } from '../harness/wait.js';
import { FRAMEWORKS } from './apps.js';
import { Browser } from './browser.js';
import { agentKeys, usePrivateRedis, useFixture } from './fixture.js';

/**
 * The cold tier through the middleware, against a real Redis and a real
 * PostgreSQL: req.agent / ctx.agent resume a conversation by id (restored
 * from the archive when it left Redis, bound as it was), read its history
 * beyond the window, list the user's conversations, and restore a linked
 * conversation that expired before writing to it. The archiver
 * (createArchiver) moves the changes into PostgreSQL as in production; tests
 * wait for it by polling the archive, with a deadline.
 *
 * A private Redis, because one test flushes it.
 */
const privateRedis = usePrivateRedis();
const fixture = useFixture(() => privateRedis.server.url);

/** One schema of this file's own in the run's database. */
const archive = createPgArchive({ connectionString: inject('pgUrl'), schema: `mw_cold_tier_${randomBytes(4).toString('hex')}` });
beforeAll(async () => {
  await archive.migrate();
});
afterAll(async () => {
  await archive.close();
});

/** The archivers started by a test, stopped after it. */
const archivers: Array<{ stop(): unknown }> = [];
afterEach(async () => {
  await Promise.all(archivers.splice(0).map((archiver) => archiver.stop()));
});

/** Starts an archiver for the app's key prefix, as `npm run archiver` does for the example's. */
async function startArchiver(prefix: string): Promise<void> {
  const archiver = createArchiver({ redis: fixture.redis, archive, keyPrefix: prefix });
  archivers.push(archiver);
  await archiver.start();
}

/** Waits until the archive holds `count` turns of conversation `id`. */
async function archived(id: string, count: number): Promise<void> {
  await eventually(`${count} turns of ${id} in PostgreSQL`, async () => (await archive.history(id, { limit: 500 })).length === count, 20_000);
}

async function loggedIn(app: { server: Server }, userId: string): Promise<Browser> {
  const browser = new Browser(app);
  expect((await browser.post('/login', { userId })).status).toBe(200);
  return browser;
}

/** Appends turns with the given contents; returns the agent session id they went to. */
async function say(browser: Browser, ...contents: string[]): Promise<string> {
  let id = '';
  for (const content of contents) {
    const response = await browser.post('/turn', { content });
    expect(response.status).toBe(200);
    id = response.body.agentSessionId as string;
  }
  return id;
}

const contentsOf = (turns: Array<{ content: string }>) => turns.map((turn) => turn.content);

describe.each(FRAMEWORKS)('%s: the cold tier through the middleware', (framework) => {
  it('resumes a conversation after Redis was flushed: restored, bound to its user, and the next append continues the seq', async () => {
    // registerEveryMs: a process announces a session to the archiver once per that interval, and the flush
    // also empties the archiver's index; with the default 30 s the last append would wait that long to be archived.
    const app = await fixture.app(framework, { archive: { tier: archive, registerEveryMs: 100 }, maxTurns: 5 });
    await startArchiver(app.prefix);
    const laptop = await loggedIn(app, 'alice');
    const id = await say(laptop, 't1', 't2', 't3', 't4', 't5', 't6', 't7');
    await archived(id, 7);

    await fixture.inspector.flushDb();
    // The running archiver may take a drain lease again just after the flush (a short-lived key of its own).
    const left = (await agentKeys(fixture.inspector, app.prefix)).filter((key) => !key.endsWith(':archive-lease'));
    expect(left).toEqual([]);

    // The cookie session went with the flush: alice logs in again, and asks for her conversation back.
    const again = await loggedIn(app, 'alice');
    const resumed = await again.post('/resume', { id });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toEqual({ agentSessionId: id, turnCount: 7, restored: true });
    expect(await fixture.inspector.hGet(`${app.prefix}{${id}}:meta`, 'userId')).toBe('alice');

    expect((await again.post('/turn', { content: 't8' })).body).toEqual({ seq: 8, agentSessionId: id });
    const state = (await again.get('/state')).body as { agentSessionId: string; userId: string; turnCount: number; turns: Array<{ seq: number; content: string }> };
    expect(state).toMatchObject({ agentSessionId: id, userId: 'alice', turnCount: 8 });
    expect(state.turns.map((turn) => turn.seq)).toEqual([4, 5, 6, 7, 8]);

    // Resuming what is already there restores nothing.
    expect((await again.post('/resume', { id })).body).toEqual({ agentSessionId: id, turnCount: 8, restored: false });
    await archived(id, 8);
  });

  it("refuses to resume another user's conversation (403) and restores, reads and links nothing; an unknown id is 404", async () => {
    const app = await fixture.app(framework, { archive: { tier: archive } });
    await startArchiver(app.prefix);
    const id = await say(await loggedIn(app, 'alice'), 'private');
    await archived(id, 1);
    await fixture.inspector.del(await agentKeys(fixture.inspector, app.prefix));

    const bob = await loggedIn(app, 'bob');
    const own = await say(bob, 'his own');
    for (const browser of [bob, new Browser(app)]) {
      const refused = await browser.post('/resume', { id });
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ error: 'session_user_mismatch' });
    }
    expect((await agentKeys(fixture.inspector, app.prefix)).filter((key) => key.includes(`{${id}}`))).toEqual([]);
    expect((await bob.get('/state')).body).toMatchObject({ agentSessionId: own, userId: 'bob', turnCount: 1 });

    const unknown = await bob.post('/resume', { id: randomBytes(24).toString('base64url') });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('SESSION_NOT_FOUND');
    expect((await bob.get('/state')).body).toMatchObject({ agentSessionId: own });
  });

  it('reads the history beyond the window, page by page, from the archive', async () => {
    const app = await fixture.app(framework, { archive: { tier: archive }, maxTurns: 5 });
    await startArchiver(app.prefix);
    const browser = await loggedIn(app, 'alice');
    const contents = Array.from({ length: 12 }, (_, index) => `turn ${index + 1}`);
    const id = await say(browser, ...contents);
    await archived(id, 12);

    // The window holds the newest 5; the archive all 12.
    expect(contentsOf((await browser.get('/state')).body.turns)).toEqual(contents.slice(7));
    expect(contentsOf((await browser.post('/history', {})).body.turns)).toEqual(contents);
    const page = (await browser.post('/history', { order: 'newest-first', beforeSeq: 8, limit: 3 })).body.turns as Array<{ seq: number }>;
    expect(page.map((turn) => turn.seq)).toEqual([7, 6, 5]);
    expect(await browser.post('/history', { limit: 501 })).toMatchObject({ status: 400, body: { code: 'INPUT_INVALID' } });
  });

  it("lists the user's conversations, newest first, and only theirs", async () => {
    const app = await fixture.app(framework, { archive: { tier: archive } });
    await startArchiver(app.prefix);
    // The archive is shared by this file's tests: a user of this test's own.
    const user = `carol-${randomBytes(4).toString('hex')}`;
    // One after the other, each archived before the next starts, so that their last activity differs.
    const ids: string[] = [];
    for (const name of ['first', 'second', 'third']) {
      const id = await say(await loggedIn(app, user), name);
      await archived(id, 1);
      ids.push(id);
    }
    const [first, second, third] = ids as [string, string, string];
    await say(await loggedIn(app, 'dave'), 'not carol');
    // carol goes back to the first: it becomes the newest.
    const carol = await loggedIn(app, user);
    expect((await carol.post('/resume', { id: first })).status).toBe(200);
    await say(carol, 'first, again');
    await archived(first, 2);

    await eventually('the listing to show the first conversation as the newest', async () => {
      const { conversations } = (await carol.get('/conversations')).body as { conversations: Array<{ id: string }> };
      return conversations[0]?.id === first;
    }, 20_000);
    const listing = await carol.get('/conversations');
    expect(listing.status).toBe(200);
    expect(listing.body.conversations).toEqual([
      { id: first, turnCount: 2, createdAt: expect.any(Number), lastActive: expect.any(Number) },
      { id: third, turnCount: 1, createdAt: expect.any(Number), lastActive: expect.any(Number) },
      { id: second, turnCount: 1, createdAt: expect.any(Number), lastActive: expect.any(Number) },
    ]);
  });

  it('an agent session that expired while its cookie session lived on is restored, then written, and concurrent writes converge on it', async () => {
    const app = await fixture.app(framework, { archive: { tier: archive } });
    await startArchiver(app.prefix);
    const browser = await loggedIn(app, 'erin');
    const id = await say(browser, 'one', 'two', 'three');
    await archived(id, 3);
    // Expired (the agent keys only; the cookie session lives on, as when they expire on different schedules).
    await fixture.inspector.del((await agentKeys(fixture.inspector, app.prefix)).filter((key) => key.includes(`{${id}}`)));

    const writes = await Promise.all(['four', 'five', 'six'].map((content) => browser.post('/turn', { content })));
    for (const write of writes) expect(write.status).toBe(200);
    expect(writes.map((write) => write.body.agentSessionId)).toEqual([id, id, id]);
    expect(writes.map((write) => write.body.seq as number).sort((a, b) => a - b)).toEqual([4, 5, 6]);
    const state = (await browser.get('/state')).body as { turnCount: number; userId: string; turns: Array<{ content: string }> };
    expect(state).toMatchObject({ turnCount: 6, userId: 'erin' });
    expect(contentsOf(state.turns).slice(0, 3)).toEqual(['one', 'two', 'three']);
    await archived(id, 6);
  });

  it('an agent session that expired before it was ever archived goes on under a new id, so that no seq is archived twice', async () => {
    const app = await fixture.app(framework, { archive: { tier: archive } });
    const browser = await loggedIn(app, 'frank');
    const old = await say(browser, 'never archived');
    // Expired before any archiver ran; its backlog still waits in Redis.
    await fixture.inspector.del([`${app.prefix}{${old}}:meta`, `${app.prefix}{${old}}:turns`]);

    const next = await browser.post('/turn', { content: 'after' });
    expect(next.status).toBe(200);
    const successor = next.body.agentSessionId as string;
    expect(successor).not.toBe(old);
    expect(next.body.seq).toBe(1);
    expect((await browser.post('/turn', { content: 'and on' })).body).toEqual({ seq: 2, agentSessionId: successor });

    await startArchiver(app.prefix);
    await archived(successor, 2);
    expect(contentsOf(await archive.history(successor, {}))).toEqual(['after', 'and on']);
    expect(contentsOf(await archive.history(old, {}))).not.toContain('after');
  });

  it('answers 503 archive_unavailable within the bound when PostgreSQL does not answer', async () => {
    const nowhere = createPgArchive({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/none`, queryTimeoutMs: 500 });
    try {
      const app = await fixture.app(framework, { archive: { tier: nowhere } });
      const browser = await loggedIn(app, 'grace');
      const id = await say(browser, 'a turn needs no PostgreSQL');
      await fixture.inspector.del((await agentKeys(fixture.inspector, app.prefix)).filter((key) => key.includes(`{${id}}`)));

      for (const send of [() => browser.get('/conversations'), () => browser.post('/history', {}), () => browser.post('/resume', { id }), () => browser.post('/turn', { content: 'restore first' })]) {
        const started = performance.now();
        const response = await send();
        expect(performance.now() - started).toBeLessThan(500 + 2_500);
        expect(response.status).toBe(503);
        expect(response.headers['retry-after']).toBe('2');
        expect(response.body).toEqual({ error: 'archive_unavailable' });
      }
    } finally {
      await nowhere.close();
    }
  });
});
