import { describe, expect, it } from 'vitest';
import { InvalidSessionIdError } from 'agent-session';
import { generateId, MAX_ID_LENGTH } from '../../src/core/ids.js';
import { sessionKeys } from '../../src/core/keys.js';
import { keySlot, keysUnder, clientForThisFile, testStore } from '../harness/store.js';

const client = clientForThisFile();

describe('session ids', () => {
  it('generates unguessable, URL-safe ids of at least 128 bits', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => generateId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(id, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    }
  });

  it.each([
    ['a glob', 'abc*'],
    ['an opening brace', 'a{b'],
    ['a closing brace', 'a}b'],
    ['a colon', 'a:b'],
    ['a space', 'a b'],
    ['a control character', 'a\nb'],
    ['a NUL', 'a\u0000b'],
    ['non-ASCII', 'café'],
    ['the empty string', ''],
    ['an over-long id', 'a'.repeat(MAX_ID_LENGTH + 1)],
  ])('rejects %s with InvalidSessionIdError before any key is formed', async (_what, id) => {
    const store = testStore(client);
    expect(() => store.session(id, { user: null })).toThrow(InvalidSessionIdError);
    await expect(store.create({ id })).rejects.toThrow(InvalidSessionIdError);
    expect(await keysUnder(client, store.keyPrefix)).toEqual([]);
  });

  it('accepts an app-supplied id in the safe charset', async () => {
    const store = testStore(client);
    const session = await store.create({ id: `conv_${'x'.repeat(MAX_ID_LENGTH - 5)}` });
    expect((await session.meta()).id).toBe(session.id);
  });
});

describe('key schema', () => {
  it('puts every key of a session in one Cluster hash slot', async () => {
    const store = testStore(client);
    const session = await store.create({ userId: 'u1' });
    await session.appendTurn({ role: 'user', content: 'hi' }, { idempotencyKey: 'msg-1' });
    await session.startToolCall({ id: 'call_1', name: 'search' });
    await session.writeNotes({ summary: 's' }, { coversThroughSeq: 1 });
    const stored = await keysUnder(client, store.keyPrefix);
    // meta, turns, tools, observer, the tool-call order, the idempotency records
    expect(stored).toHaveLength(6);
    const all = Object.values(sessionKeys(store.keyPrefix, session.id));
    expect(stored.every((key) => all.includes(key))).toBe(true);
    const slots = new Set(all.map(keySlot));
    expect(slots.size).toBe(1);
  });

  it('spreads different sessions over the Cluster hash slots', async () => {
    // 600 sessions, as the store writes them: with the id as hash tag they
    // take about 590 distinct slots out of 16384, a few per slot at most, and
    // each third of the slot range (one master of a 3-master cluster) gets
    // about 200. A hash tag shared by all sessions (the prefix, a constant)
    // puts them all in one slot.
    const store = testStore(client);
    const sessions = await Promise.all(
      Array.from({ length: 600 }, async () => {
        const session = await store.create();
        await session.appendTurn({ role: 'user', content: 'hi' });
        return session;
      }),
    );
    const stored = await keysUnder(client, store.keyPrefix);
    const slotOf = new Map<string, number>();
    for (const session of sessions) {
      const keys = stored.filter((key) => key.includes(session.id));
      expect(keys).toHaveLength(2);
      const slots = new Set(keys.map(keySlot));
      expect(slots.size).toBe(1);
      slotOf.set(session.id, [...slots][0]!);
    }
    const perSlot = new Map<number, number>();
    for (const slot of slotOf.values()) perSlot.set(slot, (perSlot.get(slot) ?? 0) + 1);
    expect(perSlot.size).toBeGreaterThan(500);
    expect(Math.max(...perSlot.values())).toBeLessThanOrEqual(6);
    const perThird = [0, 0, 0];
    for (const slot of slotOf.values()) perThird[Math.floor((slot * 3) / 16384)]! += 1;
    for (const count of perThird) expect(count).toBeGreaterThan(120);
  });
});
