import { describe, expect, it } from 'vitest';
import { ConfigError, CorruptStateError, IdempotencyConflictError, InvalidInputError } from 'agent-session';
import { SessionStore } from '../../src/core/agent-store.js';
import type { SessionHandle } from '../../src/core/agent-session.js';
import { clientForThisFile, keysUnder, rawClient, testStore, uniquePrefix, type TestClient } from '../harness/store.js';

/**
 * Retries that never duplicate: a client that got a 503 (the outcome
 * unknown) repeats its write with the same idempotency key and gets the
 * first result back, with nothing written the second time.
 */

const client = clientForThisFile();

/** Every key of the test's prefix with its DUMP: equal before and after means nothing was written. */
async function dumpAll(prefix: string): Promise<Record<string, string | null>> {
  const dumps: Record<string, string | null> = {};
  for (const key of await keysUnder(client, prefix)) {
    const dump = (await client.sendCommand(['DUMP', key])) as unknown;
    dumps[key] = dump === null ? null : Buffer.from(dump as string, 'binary').toString('base64');
  }
  return dumps;
}

async function newSession(options: Parameters<typeof testStore>[1] = {}): Promise<{ store: SessionStore; session: SessionHandle }> {
  const store = testStore(client, options);
  const created = await store.create({ userId: 'u1' });
  return { store, session: store.session(created.id, { user: 'u1' }) as SessionHandle };
}

describe('appendTurn with an idempotency key', () => {
  it('a repeated key returns the first turn (same seq and ts) and writes nothing', async () => {
    const { store, session } = await newSession();
    const first = await session.appendTurn({ role: 'user', content: 'hello' }, { idempotencyKey: 'msg-1' });
    const before = await dumpAll(store.keyPrefix);

    const again = await session.appendTurn({ role: 'user', content: 'hello' }, { idempotencyKey: 'msg-1' });
    expect(again).toEqual(first);
    expect(await dumpAll(store.keyPrefix)).toEqual(before);
    expect((await session.meta()).turnCount).toBe(1);
    expect(await session.turns()).toEqual([first]);
  });

  it('different keys, or no key, append distinct turns', async () => {
    const { session } = await newSession();
    const a = await session.appendTurn({ role: 'user', content: 'same text' }, { idempotencyKey: 'a' });
    const b = await session.appendTurn({ role: 'user', content: 'same text' }, { idempotencyKey: 'b' });
    const c = await session.appendTurn({ role: 'user', content: 'same text' });
    const d = await session.appendTurn({ role: 'user', content: 'same text' });
    expect([a.seq, b.seq, c.seq, d.seq]).toEqual([1, 2, 3, 4]);
  });

  it('50 concurrent retries with one key from two clients append exactly one turn', async () => {
    const clients: TestClient[] = await Promise.all([rawClient(), rawClient()]);
    try {
      const keyPrefix = uniquePrefix();
      const stores = clients.map((c) => new SessionStore({ redis: { client: c, failFastMs: 5_000 }, keyPrefix }));
      const created = await stores[0]!.create({ userId: 'u1' });
      const handles = stores.map((store) => store.session(created.id, { user: 'u1' }));
      const turns = await Promise.all(
        Array.from({ length: 50 }, (_, i) => handles[i % 2]!.appendTurn({ role: 'user', content: 'once' }, { idempotencyKey: 'retry-me' })),
      );
      expect(new Set(turns.map((turn) => `${turn.seq}:${turn.ts}`)).size).toBe(1);
      expect(turns[0]!.seq).toBe(1);
      expect((await handles[1]!.meta()).turnCount).toBe(1);
      expect(await handles[0]!.turns()).toHaveLength(1);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('the same key with another turn is refused (IdempotencyConflictError) and nothing is written', async () => {
    const { store, session } = await newSession();
    await session.appendTurn({ role: 'user', content: 'first' }, { idempotencyKey: 'msg-1' });
    const before = await dumpAll(store.keyPrefix);
    await expect(session.appendTurn({ role: 'user', content: 'second' }, { idempotencyKey: 'msg-1' })).rejects.toThrow(IdempotencyConflictError);
    await expect(session.appendTurn({ role: 'assistant', content: 'first' }, { idempotencyKey: 'msg-1' })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
    });
    expect(await dumpAll(store.keyPrefix)).toEqual(before);
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(129)],
    ['a space', 'msg 1'],
    ['a brace (Cluster hash tag)', 'msg{1}'],
    ['a "|"', 'a|b'],
    ['not a string', 42],
  ])('a key with %s is refused before anything is sent (InvalidInputError)', async (_what, key) => {
    const { store, session } = await newSession();
    const before = await dumpAll(store.keyPrefix);
    await expect(session.appendTurn({ role: 'user', content: 'x' }, { idempotencyKey: key as string })).rejects.toThrow(InvalidInputError);
    expect(await dumpAll(store.keyPrefix)).toEqual(before);
  });

  it('accepts UUIDs, ULIDs and 128 characters of -_.:', async () => {
    const { session } = await newSession();
    for (const key of ['0b6f4a9e-6f0e-4b8a-9c55-2f0d4f3e1a77', '01HZX3K8Q9V7W2M4N6P8R0T2Y4', 'a.b:c_d-e', 'k'.repeat(128)]) {
      await expect(session.appendTurn({ role: 'user', content: key }, { idempotencyKey: key })).resolves.toMatchObject({ content: key });
    }
  });

  it('a key is kept for idempotencyTtlMs: an older record no longer answers, the repeat appends', async () => {
    const { session } = await newSession({ idempotencyTtlMs: 60_000 });
    const first = await session.appendTurn({ role: 'user', content: 'hi' }, { idempotencyKey: 'msg-1' });
    const pttl = await client.pTTL(session.keys.idem);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
    // Age the record by 60 s (its stored time) instead of waiting a minute.
    const record = (await client.hGet(session.keys.idem, 'k:msg-1'))!;
    const [slot, storedAt, ...rest] = record.split('|');
    await client.hSet(session.keys.idem, 'k:msg-1', [slot, String(Number(storedAt) - 60_000), ...rest].join('|'));

    const later = await session.appendTurn({ role: 'user', content: 'hi' }, { idempotencyKey: 'msg-1' });
    expect(later.seq).toBe(first.seq + 1);
    // ... and the new record answers from now on.
    expect(await session.appendTurn({ role: 'user', content: 'hi' }, { idempotencyKey: 'msg-1' })).toEqual(later);
  });

  it('at most maxIdempotencyKeys records are kept per session; the oldest leave first', async () => {
    const { session } = await newSession({ maxIdempotencyKeys: 5 });
    for (let i = 0; i < 12; i++) await session.appendTurn({ role: 'user', content: `m${i}` }, { idempotencyKey: `k${i}` });
    // 5 records, 5 ring slots and the cursor.
    expect(await client.hLen(session.keys.idem)).toBe(11);
    // The newest five still answer ...
    for (let i = 7; i < 12; i++) {
      expect((await session.appendTurn({ role: 'user', content: `m${i}` }, { idempotencyKey: `k${i}` })).seq).toBe(i + 1);
    }
    expect((await session.meta()).turnCount).toBe(12);
    // ... the oldest no longer does.
    expect((await session.appendTurn({ role: 'user', content: 'm0' }, { idempotencyKey: 'k0' })).seq).toBe(13);
    expect(await client.hLen(session.keys.idem)).toBe(11);
  });

  it('a repeated key that was dropped and stored again keeps its new record when its old slot comes round', async () => {
    const { session } = await newSession({ maxIdempotencyKeys: 3 });
    await session.appendTurn({ role: 'user', content: 'x' }, { idempotencyKey: 'k' });
    // Age it, so the repeat stores a new record in the next slot.
    const [slot, storedAt, ...rest] = (await client.hGet(session.keys.idem, 'k:k'))!.split('|');
    await client.hSet(session.keys.idem, 'k:k', [slot, String(Number(storedAt) - 10 * 3_600_000), ...rest].join('|'));
    const second = await session.appendTurn({ role: 'user', content: 'x' }, { idempotencyKey: 'k' });
    // Two more records: the ring comes back to the slot the first record had.
    await session.appendTurn({ role: 'user', content: 'y' }, { idempotencyKey: 'k2' });
    await session.appendTurn({ role: 'user', content: 'z' }, { idempotencyKey: 'k3' });
    expect(await session.appendTurn({ role: 'user', content: 'x' }, { idempotencyKey: 'k' })).toEqual(second);
  });

  it('a record of an earlier life of the session (same id, created again) does not answer', async () => {
    const { store, session } = await newSession();
    await session.appendTurn({ role: 'user', content: 'hi' }, { idempotencyKey: 'msg-1' });
    // The session expired and was started afresh under the same id (the request layer does that): only its idem key is left.
    await client.del([session.keys.meta, session.keys.turns, session.keys.tools, session.keys.observer]);
    await store.create({ id: session.id, userId: 'u1' });
    // The new life's createdAt differs from the old one's (the record names the life it belongs to);
    // made certain here, since both creates could fall in one millisecond.
    const [slot, storedAt, , ...rest] = (await client.hGet(session.keys.idem, 'k:msg-1'))!.split('|');
    await client.hSet(session.keys.idem, 'k:msg-1', [slot, storedAt, '1', ...rest].join('|'));
    const fresh = await session.appendTurn({ role: 'user', content: 'hi' }, { idempotencyKey: 'msg-1' });
    expect(fresh.seq).toBe(1);
    expect(await session.turns()).toEqual([fresh]);
  });

  it('delete() removes the records: a retry afterwards does not answer with a deleted turn', async () => {
    const { store, session } = await newSession();
    await session.appendTurn({ role: 'user', content: 'hi' }, { idempotencyKey: 'msg-1' });
    await session.delete();
    expect(await keysUnder(client, store.keyPrefix)).toEqual([]);
  });

  it('another user cannot read a result through a key (the user check comes first)', async () => {
    const { store, session } = await newSession();
    await session.appendTurn({ role: 'user', content: 'hi' }, { idempotencyKey: 'msg-1' });
    const mallory = store.session(session.id, { user: 'mallory' });
    await expect(mallory.appendTurn({ role: 'user', content: 'hi' }, { idempotencyKey: 'msg-1' })).rejects.toMatchObject({
      code: 'SESSION_USER_MISMATCH',
    });
  });

  it('an idem key of another type is CorruptStateError naming it, and nothing is written', async () => {
    const { store, session } = await newSession();
    await client.set(session.keys.idem, 'not a hash');
    const before = await dumpAll(store.keyPrefix);
    const error = await session.appendTurn({ role: 'user', content: 'x' }, { idempotencyKey: 'msg-1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptStateError);
    expect(error).toMatchObject({ key: session.keys.idem });
    expect(await dumpAll(store.keyPrefix)).toEqual(before);
    // Without a key the append does not read it.
    await expect(session.appendTurn({ role: 'user', content: 'x' })).resolves.toMatchObject({ seq: 1 });
  });

  it.each([
    ['a non-numeric cursor', 'n', 'x'],
    ['a cursor past 64 bits', 'n', '99999999999999999999'],
    ['a record agent-session did not write', 'k:msg-1', 'garbage'],
  ])('%s in the idem hash is CorruptStateError, nothing written', async (_what, field, value) => {
    const { store, session } = await newSession();
    await client.hSet(session.keys.idem, field, value);
    const before = await dumpAll(store.keyPrefix);
    await expect(session.appendTurn({ role: 'user', content: 'x' }, { idempotencyKey: 'msg-1' })).rejects.toMatchObject({
      code: 'STATE_CORRUPT',
      key: session.keys.idem,
    });
    expect(await dumpAll(store.keyPrefix)).toEqual(before);
  });
});

describe('startToolCall with an idempotency key', () => {
  it('a repeat returns the first call (same startedAt) and writes nothing; a repeat without the key is refused as before', async () => {
    const { store, session } = await newSession();
    const first = await session.startToolCall({ id: 'call_1', name: 'lookup', args: { q: 1 } }, { idempotencyKey: 'tool-1' });
    const before = await dumpAll(store.keyPrefix);
    const again = await session.startToolCall({ id: 'call_1', name: 'lookup', args: { q: 1 } }, { idempotencyKey: 'tool-1' });
    expect(again).toEqual(first);
    expect(await dumpAll(store.keyPrefix)).toEqual(before);
    expect(await session.toolCalls()).toEqual([first]);
    await expect(session.startToolCall({ id: 'call_1', name: 'lookup', args: { q: 1 } })).rejects.toMatchObject({ code: 'TOOL_CALL_STATE' });
  });

  it('still answers after the call finished', async () => {
    const { session } = await newSession();
    const first = await session.startToolCall({ id: 'call_1', name: 'lookup' }, { idempotencyKey: 'tool-1' });
    await session.completeToolCall('call_1', { ok: true });
    expect(await session.startToolCall({ id: 'call_1', name: 'lookup' }, { idempotencyKey: 'tool-1' })).toEqual(first);
    expect(await session.toolCall('call_1')).toMatchObject({ status: 'completed', result: { ok: true } });
  });

  it('concurrent retries from two clients start one call', async () => {
    const clients: TestClient[] = await Promise.all([rawClient(), rawClient()]);
    try {
      const keyPrefix = uniquePrefix();
      const stores = clients.map((c) => new SessionStore({ redis: { client: c, failFastMs: 5_000 }, keyPrefix }));
      const created = await stores[0]!.create();
      const handles = stores.map((store) => store.session(created.id, { user: null }));
      const calls = await Promise.all(
        Array.from({ length: 50 }, (_, i) => handles[i % 2]!.startToolCall({ id: 'call_x', name: 'lookup' }, { idempotencyKey: 'once' })),
      );
      expect(new Set(calls.map((call) => call.startedAt)).size).toBe(1);
      expect(await handles[0]!.toolCalls()).toHaveLength(1);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('the same key with another id, name or arguments is refused and nothing is written', async () => {
    const { store, session } = await newSession();
    await session.startToolCall({ id: 'call_1', name: 'lookup', args: { q: 1 } }, { idempotencyKey: 'tool-1' });
    const before = await dumpAll(store.keyPrefix);
    for (const input of [
      { id: 'call_2', name: 'lookup', args: { q: 1 } },
      { id: 'call_1', name: 'search', args: { q: 1 } },
      { id: 'call_1', name: 'lookup', args: { q: 2 } },
    ]) {
      await expect(session.startToolCall(input, { idempotencyKey: 'tool-1' })).rejects.toThrow(IdempotencyConflictError);
    }
    expect(await dumpAll(store.keyPrefix)).toEqual(before);
  });

  it('an appendTurn key and a startToolCall key share one namespace per session: reusing one across them is a conflict', async () => {
    const { session } = await newSession();
    await session.appendTurn({ role: 'user', content: 'x' }, { idempotencyKey: 'shared' });
    await expect(session.startToolCall({ id: 'c', name: 't' }, { idempotencyKey: 'shared' })).rejects.toThrow(IdempotencyConflictError);
  });
});

describe('idempotency options', () => {
  it.each([
    [{ idempotencyTtlMs: 0 }, /idempotencyTtlMs/],
    [{ idempotencyTtlMs: 8 * 24 * 3_600_000 }, /idempotencyTtlMs/],
    [{ maxIdempotencyKeys: 0 }, /maxIdempotencyKeys/],
    [{ maxToolCalls: 0 }, /maxToolCalls/],
    [{ maxToolCalls: 1.5 }, /maxToolCalls/],
  ])('%o is refused with ConfigError naming the option', (options, name) => {
    expect(() => testStore(client, options)).toThrow(ConfigError);
    expect(() => testStore(client, options)).toThrow(name);
  });
});
