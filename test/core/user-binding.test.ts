import { describe, expect, it } from 'vitest';
import { InvalidInputError, SessionNotFoundError, SessionUserMismatchError, type AgentStore } from 'agent-session';
import { generateId } from '../../src/core/ids.js';
import { clientForThisFile, keysUnder, testStore } from '../harness/store.js';

const client = clientForThisFile();

// Handles by who is calling: the one place in this file that knows how a caller is passed.
const asUser = (store: AgentStore, id: string, user: string) => store.session(id, { user });
const anonymously = (store: AgentStore, id: string) => store.session(id, { user: null });
/** Trusted code such as a background worker: no user check at all. */
const trusted = (store: AgentStore, id: string) => store.session(id, { trusted: 'test' });

describe('session-to-user binding', () => {
  it('refuses another user and an anonymous caller, reading and writing nothing', async () => {
    const store = testStore(client);
    const owned = await store.create({ userId: 'alice' });
    await owned.appendTurn({ role: 'user', content: 'secret' });
    const before = await client.hGetAll(owned.keys.meta);
    for (const intruder of [asUser(store, owned.id, 'mallory'), anonymously(store, owned.id)]) {
      await expect(intruder.turns()).rejects.toThrow(SessionUserMismatchError);
      await expect(intruder.appendTurn({ role: 'user', content: 'x' })).rejects.toThrow(SessionUserMismatchError);
      await expect(intruder.notes()).rejects.toThrow(SessionUserMismatchError);
    }
    for (const intruder of [asUser(store, owned.id, 'mallory'), anonymously(store, owned.id)]) {
      await client.pExpire(owned.keys.meta, 50_000);
      await expect(intruder.touch()).rejects.toThrow(SessionUserMismatchError);
      await expect(intruder.delete()).rejects.toThrow(SessionUserMismatchError);
      const pttl = await client.pTTL(owned.keys.meta);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(50_000);
    }
    expect(await client.hGetAll(owned.keys.meta)).toEqual(before);
    expect(await client.lLen(owned.keys.turns)).toBe(1);
  });

  it('serves the user the session is bound to, reads and writes alike', async () => {
    const store = testStore(client);
    const { id } = await store.create({ userId: 'alice' });
    const alice = asUser(store, id, 'alice');
    await alice.appendTurn({ role: 'user', content: 'mine' });
    await alice.update({ currentTask: 'refund' });
    await alice.startToolCall({ id: 'call_1', name: 'lookup' });
    expect(await alice.touch()).toBe(true);
    expect((await alice.snapshot()).meta).toMatchObject({ userId: 'alice', turnCount: 1, currentTask: 'refund' });
    await alice.delete();
    expect(await keysUnder(client, store.keyPrefix)).toEqual([]);
  });

  it('binds an unbound session to the first user that uses it', async () => {
    const store = testStore(client);
    const { id } = await store.create();
    await anonymously(store, id).appendTurn({ role: 'user', content: 'before login' });
    await asUser(store, id, 'bob').appendTurn({ role: 'user', content: 'after login' });
    expect((await trusted(store, id).meta()).userId).toBe('bob');
    await expect(asUser(store, id, 'eve').turns()).rejects.toThrow(SessionUserMismatchError);
    await expect(anonymously(store, id).turns()).rejects.toThrow(SessionUserMismatchError);
  });

  it('lets anonymous callers use an unbound session without binding it', async () => {
    const store = testStore(client);
    const { id } = await store.create();
    const first = anonymously(store, id);
    await first.appendTurn({ role: 'user', content: 'hello' });
    await first.update({ currentTask: 'browse' });
    expect(await first.touch()).toBe(true);
    expect(await anonymously(store, id).turns()).toHaveLength(1);
    expect((await trusted(store, id).meta()).userId).toBeUndefined();
    // Still unbound: the first user to come along takes it.
    await asUser(store, id, 'bob').appendTurn({ role: 'user', content: 'logged in' });
    expect((await trusted(store, id).meta()).userId).toBe('bob');
  });

  it('lets trusted code (no caller) use any session, and binds none', async () => {
    const store = testStore(client);
    const owned = await store.create({ userId: 'alice' });
    const worker = trusted(store, owned.id);
    await worker.appendTurn({ role: 'assistant', content: 'from the worker' });
    expect(await worker.touch()).toBe(true);
    expect((await worker.snapshot()).meta).toMatchObject({ userId: 'alice', turnCount: 1 });

    const { id } = await store.create();
    await trusted(store, id).appendTurn({ role: 'assistant', content: 'greeting' });
    expect((await trusted(store, id).meta()).userId).toBeUndefined();
    await asUser(store, id, 'carol').turns();
    expect((await trusted(store, id).meta()).userId).toBe('carol');

    await worker.delete();
    await trusted(store, id).delete();
    expect(await keysUnder(client, store.keyPrefix)).toEqual([]);
  });

  it('refuses a missing session to every caller, binding and creating nothing', async () => {
    const store = testStore(client);
    const id = generateId();
    for (const handle of [asUser(store, id, 'alice'), anonymously(store, id), trusted(store, id)]) {
      await expect(handle.appendTurn({ role: 'user', content: 'x' })).rejects.toThrow(SessionNotFoundError);
      await expect(handle.update({ currentTask: 'x' })).rejects.toThrow(SessionNotFoundError);
      await expect(handle.turns()).rejects.toThrow(SessionNotFoundError);
      expect(await handle.touch()).toBe(false);
    }
    expect(await keysUnder(client, store.keyPrefix)).toEqual([]);
  });

  it('refuses a handle without a caller at run time too (no caller never means "no check")', () => {
    const store = testStore(client);
    for (const missing of [undefined, {}, { user: undefined }, { user: '' }, { trusted: '' }, 'alice']) {
      expect(() => store.session('some-session', missing as never)).toThrow(InvalidInputError);
    }
  });
});
