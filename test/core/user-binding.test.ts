import { describe, expect, it } from 'vitest';
import { InvalidInputError, SessionUserMismatchError } from 'agent-session';
import { clientForThisFile, testStore } from '../harness/store.js';

const client = clientForThisFile();

describe('session-to-user binding', () => {
  it('refuses another user and an anonymous caller, reading and writing nothing', async () => {
    const store = testStore(client);
    const owned = await store.create({ userId: 'alice' });
    await owned.appendTurn({ role: 'user', content: 'secret' });
    const before = await client.hGetAll(owned.keys.meta);
    for (const caller of [{ user: 'mallory' }, { user: null }]) {
      const intruder = store.session(owned.id, caller);
      await expect(intruder.turns()).rejects.toThrow(SessionUserMismatchError);
      await expect(intruder.appendTurn({ role: 'user', content: 'x' })).rejects.toThrow(SessionUserMismatchError);
      await expect(intruder.notes()).rejects.toThrow(SessionUserMismatchError);
    }
    for (const caller of [{ user: 'mallory' }, { user: null }]) {
      const intruder = store.session(owned.id, caller);
      await client.pExpire(owned.keys.meta, 50_000);
      await expect(intruder.touch()).rejects.toThrow(SessionUserMismatchError);
      await expect(intruder.delete()).rejects.toThrow(SessionUserMismatchError);
      const pttl = await client.pTTL(owned.keys.meta);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(50_000);
    }
    expect(await client.hGetAll(owned.keys.meta)).toEqual(before);
    expect(await client.lLen(owned.keys.turns)).toBe(1);
    await expect(store.session(owned.id, { user: 'alice' }).turns()).resolves.toHaveLength(1);
  });

  it('binds an unbound session to the first user that uses it', async () => {
    const store = testStore(client);
    const anonymous = await store.create();
    await store.session(anonymous.id, { user: null }).appendTurn({ role: 'user', content: 'before login' });
    await store.session(anonymous.id, { user: 'bob' }).appendTurn({ role: 'user', content: 'after login' });
    expect((await store.session(anonymous.id, { user: 'bob' }).meta()).userId).toBe('bob');
    await expect(store.session(anonymous.id, { user: 'eve' }).turns()).rejects.toThrow(SessionUserMismatchError);
    // The handle create() returned acts as the anonymous creator, who is now refused too.
    await expect(anonymous.turns()).rejects.toThrow(SessionUserMismatchError);
  });

  it('refuses a handle without a caller at run time too (no call means "no check")', () => {
    const store = testStore(client);
    for (const missing of [undefined, {}, { user: undefined }, { user: '' }, { trusted: '' }, 'alice']) {
      expect(() => store.session('some-session', missing as never)).toThrow(InvalidInputError);
    }
  });
});
