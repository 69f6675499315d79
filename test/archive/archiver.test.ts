import { afterAll, describe, expect, inject, it } from 'vitest';
import { ArchiveBacklogFullError, SessionNotFoundError, SessionUserMismatchError } from 'agent-session';
import { createArchiver, createPgArchive, type Archiver, type ArchiverEvent, type PgArchive } from 'agent-session/archive';
import { SessionStore } from '../../src/core/agent-store.js';
import { sessionKeys } from '../../src/core/keys.js';
import { clientForThisFile, uniquePrefix } from '../harness/store.js';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy.js';
import { archiveForThisFile, uniqueSchema } from './support.js';
import { eventually } from '../harness/wait.js';

/**
 * The cold tier end to end: real Redis, real PostgreSQL, the archiver in
 * between. Each test uses its own key prefix; the file has its own schema.
 */
const client = clientForThisFile();
const { archive, schema, sql } = archiveForThisFile();
const redis = { client, failFastMs: 2_000 };
const archivers: Archiver[] = [];

function storeWithArchive(options: { maxBacklog?: number; maxTurns?: number; maxToolCalls?: number; tier?: PgArchive } = {}) {
  const keyPrefix = uniquePrefix();
  const store = new SessionStore({
    redis,
    keyPrefix,
    maxTurns: options.maxTurns ?? 50,
    ...(options.maxToolCalls ? { maxToolCalls: options.maxToolCalls } : {}),
    archive: { tier: options.tier ?? archive, ...(options.maxBacklog ? { maxBacklog: options.maxBacklog } : {}) },
  });
  return { store, keyPrefix };
}

function startArchiver(keyPrefix: string, tier: PgArchive = archive, events: ArchiverEvent[] = []): Archiver {
  const archiver = createArchiver({ redis, archive: tier, keyPrefix, pollIntervalMs: 20, logger: (event) => events.push(event) });
  archivers.push(archiver);
  archiver.start();
  return archiver;
}

afterAll(async () => {
  await Promise.all(archivers.map((archiver) => archiver.stop()));
});

async function archivedSeqs(id: string): Promise<number[]> {
  const seqs: number[] = [];
  let afterSeq = 0;
  for (;;) {
    const page = await archive.history(id, { afterSeq, limit: 500, order: 'oldest-first' });
    if (page.length === 0) return seqs;
    seqs.push(...page.map((turn) => turn.seq));
    afterSeq = page.at(-1)!.seq;
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('the archiver', () => {
  it('archives all 500 turns of a session, in order, exactly once, after being stopped while they were appended', async () => {
    const { store, keyPrefix } = storeWithArchive({ maxTurns: 50 });
    const session = await store.create({ userId: 'ada' });
    for (let i = 1; i <= 500; i++) await session.appendTurn({ role: i % 2 ? 'user' : 'assistant', content: `turn ${i}` });
    // The window kept 50; the backlog kept every change (the create, 500 turns).
    expect(await client.lLen(sessionKeys(keyPrefix, session.id).turns)).toBe(50);
    expect(await client.lLen(sessionKeys(keyPrefix, session.id).archive)).toBe(501);
    expect(await archive.owner(session.id)).toBeNull();

    const archiver = startArchiver(keyPrefix);
    await eventually('500 turns archived', async () => (await archivedSeqs(session.id)).length === 500);
    expect(await archivedSeqs(session.id)).toEqual(range(1, 500));
    await eventually('backlog emptied', async () => (await client.lLen(sessionKeys(keyPrefix, session.id).archive)) === 0);
    // Archiving again (a crash between the write and the trim replays entries) changes nothing.
    await archiver.drainAll();
    expect(await archivedSeqs(session.id)).toEqual(range(1, 500));
  });

  it('keeps tool calls with their final state and every version of the notes', async () => {
    const { store, keyPrefix } = storeWithArchive();
    const session = await store.create({ userId: 'ada' });
    await session.startToolCall({ id: 'call_1', name: 'lookup', args: { q: 'x' } });
    await session.completeToolCall('call_1', { found: true });
    const observer = store.session(session.id, { trusted: 'observer' });
    await session.appendTurn({ role: 'user', content: 'one' });
    await observer.writeNotes({ v: 1 }, { coversThroughSeq: 1 });
    await session.appendTurn({ role: 'user', content: 'two' });
    await observer.writeNotes({ v: 2 }, { coversThroughSeq: 2 });
    const archiver = createArchiver({ redis, archive, keyPrefix });
    await archiver.drainAll();
    const restored = await archive.loadForRestore(session.id, 50);
    expect(restored?.toolCalls).toEqual([expect.objectContaining({ callId: 'call_1', name: 'lookup', status: 'completed', args: { q: 'x' }, result: { found: true } })]);
    expect(restored?.notes).toMatchObject({ coversThroughSeq: 2, notes: { v: 2 } });
  });

  it('refuses writes past the backlog bound while nothing archives, writing nothing, and takes them again once archived', async () => {
    const { store, keyPrefix } = storeWithArchive({ maxBacklog: 5 });
    const session = await store.create({ userId: 'ada' });
    for (let i = 1; i <= 4; i++) await session.appendTurn({ role: 'user', content: `t${i}` });
    const before = await client.hGetAll(sessionKeys(keyPrefix, session.id).meta);
    await expect(session.appendTurn({ role: 'user', content: 'one too many' })).rejects.toBeInstanceOf(ArchiveBacklogFullError);
    expect(await client.hGetAll(sessionKeys(keyPrefix, session.id).meta)).toEqual(before);
    expect(await client.lLen(sessionKeys(keyPrefix, session.id).turns)).toBe(4);
    await createArchiver({ redis, archive, keyPrefix }).drainAll();
    await expect(session.appendTurn({ role: 'user', content: 'room again' })).resolves.toMatchObject({ seq: 5 });
  });

  it('applies the retention option: archived conversations idle for longer are erased', async () => {
    // A schema of its own: retention erases every idle conversation it finds.
    const own = createPgArchive({ connectionString: inject('pgUrl'), schema: uniqueSchema() });
    await own.migrate();
    try {
      const { store, keyPrefix } = storeWithArchive({ tier: own });
      const session = await store.create({ userId: 'ada' });
      await session.appendTurn({ role: 'user', content: 'short-lived' });
      await createArchiver({ redis, archive: own, keyPrefix }).drainAll();
      expect(await own.owner(session.id)).not.toBeNull();
      const events: ArchiverEvent[] = [];
      const archiver = createArchiver({ redis, archive: own, keyPrefix, pollIntervalMs: 20, retainIdleMs: 1, retentionEveryMs: 1, logger: (event) => events.push(event) });
      archiver.start();
      await eventually('erased by retention', async () => (await own.owner(session.id)) === null);
      await archiver.stop();
      expect(events.some((event) => event.type === 'retention')).toBe(true);
    } finally {
      await own.close();
    }
  });

  it('two archivers on the same sessions copy every turn once and in order', async () => {
    const { store, keyPrefix } = storeWithArchive();
    const sessions = await Promise.all(Array.from({ length: 10 }, (_, i) => store.create({ userId: `u${i}` })));
    startArchiver(keyPrefix);
    startArchiver(keyPrefix);
    await Promise.all(
      sessions.map(async (session) => {
        for (let i = 1; i <= 40; i++) await session.appendTurn({ role: 'user', content: `t${i}` });
      }),
    );
    for (const session of sessions) {
      await eventually(`session ${session.id} archived`, async () => (await archivedSeqs(session.id)).length === 40);
      expect(await archivedSeqs(session.id)).toEqual(range(1, 40));
    }
  });

  it('catches up after PostgreSQL was unreachable while appends went on, and requests never waited on it', async () => {
    const url = new URL(inject('pgUrl'));
    const proxy: TcpProxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.port = String(proxy.port);
    const throughProxy = createPgArchive({ connectionString: url.toString(), schema, queryTimeoutMs: 500 });
    try {
      const { store, keyPrefix } = storeWithArchive();
      const session = await store.create({ userId: 'ada' });
      const events: ArchiverEvent[] = [];
      startArchiver(keyPrefix, throughProxy, events);
      for (let i = 1; i <= 20; i++) await session.appendTurn({ role: 'user', content: `before ${i}` });
      await eventually('first turns archived', async () => (await archivedSeqs(session.id)).length === 20);
      await proxy.cut();
      for (let i = 21; i <= 120; i++) await session.appendTurn({ role: 'user', content: `during ${i}` });
      await eventually('the archiver reported the outage', async () => events.some((event) => event.type === 'error'));
      expect((await archivedSeqs(session.id)).length).toBe(20);
      await proxy.restore();
      await eventually('caught up', async () => (await archivedSeqs(session.id)).length === 120, 20_000);
      expect(await archivedSeqs(session.id)).toEqual(range(1, 120));
    } finally {
      await throughProxy.close();
      await proxy.close();
    }
  });
});

describe('resume from the cold tier', () => {
  async function archivedConversation(turns: number) {
    const { store, keyPrefix } = storeWithArchive({ maxTurns: 10 });
    const session = await store.create({ userId: 'ada' });
    for (let i = 1; i <= turns; i++) await session.appendTurn({ role: 'user', content: `turn ${i}` });
    await createArchiver({ redis, archive, keyPrefix }).drainAll();
    // Redis loses the session (a flush, an eviction, an expiry).
    await client.del(Object.values(sessionKeys(keyPrefix, session.id)));
    return { store, keyPrefix, id: session.id };
  }

  it('restores the last window and continues the sequence after Redis lost the session', async () => {
    const { store, id } = await archivedConversation(25);
    const { session, restored } = await store.resume(id, { user: 'ada' });
    expect(restored).toBe(true);
    expect((await session.turns()).map((turn) => turn.seq)).toEqual(range(16, 25));
    expect((await session.meta()).userId).toBe('ada');
    await expect(session.appendTurn({ role: 'user', content: 'next' })).resolves.toMatchObject({ seq: 26 });
    // Resuming a session that is in Redis restores nothing.
    await expect(store.resume(id, { user: 'ada' })).resolves.toMatchObject({ restored: false });
  });

  it('archives the cached mark of a tool call and puts it back on resume', async () => {
    const { store, keyPrefix } = storeWithArchive();
    const session = await store.create({ userId: 'ada' });
    await session.startToolCall({ id: 'hit', name: 'search', args: { q: 'x' } });
    await session.completeToolCall('hit', { found: 1 }, { cached: true });
    await session.startToolCall({ id: 'ran', name: 'search', args: { q: 'y' } });
    await session.completeToolCall('ran', { found: 2 });
    await createArchiver({ redis, archive, keyPrefix }).drainAll();
    const rows = await sql.query<{ call_id: string; cached: boolean }>(`SELECT call_id, cached FROM ${schema}.tool_calls WHERE conversation_id = $1 ORDER BY call_id`, [session.id]);
    expect(rows.rows).toEqual([{ call_id: 'hit', cached: true }, { call_id: 'ran', cached: false }]);
    await client.del(Object.values(sessionKeys(keyPrefix, session.id)));
    const { session: resumed, restored } = await store.resume(session.id, { user: 'ada' });
    expect(restored).toBe(true);
    expect((await resumed.toolCalls()).map((call) => [call.id, call.cached])).toEqual([['hit', true], ['ran', undefined]]);
  });

  it('puts back the turns the archiver had not copied yet, so no seq is reused', async () => {
    const { store, keyPrefix } = storeWithArchive({ maxTurns: 10 });
    const session = await store.create({ userId: 'ada' });
    for (let i = 1; i <= 10; i++) await session.appendTurn({ role: 'user', content: `archived ${i}` });
    await createArchiver({ redis, archive, keyPrefix }).drainAll();
    for (let i = 11; i <= 15; i++) await session.appendTurn({ role: 'user', content: `pending ${i}` });
    // The session expired; its backlog (longer-lived) still holds turns 11..15.
    const keys = sessionKeys(keyPrefix, session.id);
    await client.del([keys.meta, keys.turns, keys.tools, keys.observer]);
    const { session: resumed, restored } = await store.resume(session.id, { user: 'ada' });
    expect(restored).toBe(true);
    expect((await resumed.turns()).map((turn) => turn.seq)).toEqual(range(6, 15));
    await expect(resumed.appendTurn({ role: 'user', content: 'next' })).resolves.toMatchObject({ seq: 16 });
    await createArchiver({ redis, archive, keyPrefix }).drainAll();
    expect(await archivedSeqs(session.id)).toEqual(range(1, 16));
  });

  it('restores the tool-call window: every pending call and the newest finished ones, not every archived call', async () => {
    const { store, keyPrefix } = storeWithArchive({ maxToolCalls: 4 });
    const session = await store.create({ userId: 'ada' });
    await session.startToolCall({ id: 'slow', name: 'wait' });
    for (let i = 0; i < 12; i++) {
      await session.startToolCall({ id: `c${i}`, name: 'lookup' });
      await session.completeToolCall(`c${i}`, i);
    }
    await createArchiver({ redis, archive, keyPrefix }).drainAll();
    const keys = sessionKeys(keyPrefix, session.id);
    await client.del([keys.meta, keys.turns, keys.tools, keys.observer, keys.toolOrder]);
    const { session: resumed } = await store.resume(session.id, { user: 'ada' });
    expect((await resumed.toolCalls()).map((call) => call.id)).toEqual(['slow', 'c9', 'c10', 'c11']);
  });

  it('restores tool calls started in the same millisecond in the order they started, not by id', async () => {
    const { store, keyPrefix } = storeWithArchive({ maxToolCalls: 12 });
    const session = await store.create({ userId: 'ada' });
    // Ids whose string order is not their start order ('c10' < 'c9'); the
    // same startedAt for all of them is what a fast loop gives, made certain here.
    const ids = Array.from({ length: 12 }, (_, i) => `c${i}`);
    for (const id of ids) await session.startToolCall({ id, name: 'lookup' });
    const keys = sessionKeys(keyPrefix, session.id);
    await createArchiver({ redis, archive, keyPrefix }).drainAll();
    await sql.query(`UPDATE ${schema}.tool_calls SET started_at = 1 WHERE conversation_id = $1`, [session.id]);
    await client.del([keys.meta, keys.turns, keys.tools, keys.observer, keys.toolOrder]);
    const { session: resumed } = await store.resume(session.id, { user: 'ada' });
    expect((await resumed.toolCalls()).map((call) => call.id)).toEqual(ids);
    // The window keeps that order too: a 13th call in a window of 12 evicts
    // the oldest finished one, c2 (by id, 'c10' would rank before 'c2').
    for (const id of ['c2', 'c10', 'c11']) await resumed.completeToolCall(id, 'done');
    await resumed.startToolCall({ id: 'c12', name: 'lookup' });
    const kept = (await resumed.toolCalls()).map((call) => call.id);
    expect(kept).not.toContain('c2');
    expect(kept).toEqual(expect.arrayContaining(['c10', 'c11', 'c12']));
  });

  it('converges when many requests resume the same conversation at once', async () => {
    const { store, id } = await archivedConversation(12);
    const results = await Promise.all(Array.from({ length: 10 }, () => store.resume(id, { user: 'ada' })));
    expect(results.filter((result) => result.restored)).toHaveLength(1);
    await expect(store.session(id, { user: 'ada' }).appendTurn({ role: 'user', content: 'x' })).resolves.toMatchObject({ seq: 13 });
  });

  it("refuses another user's conversation and restores nothing", async () => {
    const { store, keyPrefix, id } = await archivedConversation(3);
    await expect(store.resume(id, { user: 'mallory' })).rejects.toBeInstanceOf(SessionUserMismatchError);
    await expect(store.resume(id, { user: null })).rejects.toBeInstanceOf(SessionUserMismatchError);
    expect(await client.exists(sessionKeys(keyPrefix, id).meta)).toBe(0);
  });

  it('answers an unknown conversation with SessionNotFoundError', async () => {
    const { store } = storeWithArchive();
    await expect(store.resume('never-was', { user: 'ada' })).rejects.toBeInstanceOf(SessionNotFoundError);
  });

  it('delete() erases both tiers: nothing can be resumed', async () => {
    const { store, keyPrefix } = storeWithArchive();
    const session = await store.create({ userId: 'ada' });
    await session.appendTurn({ role: 'user', content: 'forget me' });
    await createArchiver({ redis, archive, keyPrefix }).drainAll();
    expect(await archive.owner(session.id)).not.toBeNull();
    await session.delete();
    expect(await archive.owner(session.id)).toBeNull();
    expect(await client.exists(Object.values(sessionKeys(keyPrefix, session.id)))).toBe(0);
    await expect(store.resume(session.id, { user: 'ada' })).rejects.toBeInstanceOf(SessionNotFoundError);
  });

  it('reads history beyond the window, for its user only', async () => {
    const { store, id } = await archivedConversation(30);
    const page = await store.history(id, { user: 'ada' }, { beforeSeq: 11, limit: 5, order: 'newest-first' });
    expect(page.map((turn) => turn.seq)).toEqual([10, 9, 8, 7, 6]);
    await expect(store.history(id, { user: 'eve' })).rejects.toBeInstanceOf(SessionUserMismatchError);
    const listed = await store.conversations('ada');
    expect(listed.conversations.map((conversation) => conversation.id)).toContain(id);
  });
});
