import { describe, expect, it } from 'vitest';
import { LeaseLostError, SessionNotFoundError } from 'agent-session';
import { evaluateNotes } from '../../src/core/notes.js';
import { clientForThisFile, keysUnder, testStore } from '../harness/store.js';

const client = clientForThisFile();

describe('the staleness rule', () => {
  const stored = { notes: { intent: 'refund' }, writtenAt: 1_000, coversThroughSeq: 8 };

  it.each([
    ['no tolerances: never stale', {}, 10_000, 20, false],
    ['young enough and few turns behind', { maxAgeMs: 5_000, maxLagTurns: 2 }, 6_000, 10, false],
    ['older than maxAgeMs', { maxAgeMs: 5_000 }, 6_001, 8, true],
    ['more turns behind than maxLagTurns', { maxLagTurns: 2 }, 1_000, 11, true],
    ['either bound alone makes it stale', { maxAgeMs: 60_000, maxLagTurns: 0 }, 1_000, 9, true],
  ])('%s', (_name, query, now, turnCount, stale) => {
    const result = evaluateNotes(stored, turnCount, now, query);
    expect(result).toMatchObject({ ready: true, stale, ageMs: now - 1_000, lagTurns: turnCount - 8, coversThroughSeq: 8 });
  });

  it('is not ready before the first notes, and still reports the last error', () => {
    expect(evaluateNotes({}, 3, 0)).toEqual({ ready: false });
    const lastError = { message: 'model timeout', at: 5 };
    expect(evaluateNotes({ lastError }, 3, 0)).toEqual({ ready: false, lastError });
  });
});

describe('observer notes in the session', () => {
  it('reads { ready: false } before any notes, then the notes with their lag', async () => {
    const session = await testStore(client).create();
    expect(await session.notes()).toEqual({ ready: false });
    for (let i = 0; i < 3; i++) await session.appendTurn({ role: 'user', content: `t${i}` });
    expect(await session.writeNotes({ intent: 'book' }, { coversThroughSeq: 2 })).toBe(true);
    const result = await session.notes({ maxLagTurns: 0 });
    expect(result).toMatchObject({ ready: true, stale: true, lagTurns: 1, coversThroughSeq: 2, notes: { intent: 'book' } });
    expect(await session.notes({ maxLagTurns: 1, maxAgeMs: 60_000 })).toMatchObject({ stale: false });
  });

  it('measures age on the Redis clock', async () => {
    const session = await testStore(client).create();
    await session.writeNotes({}, { coversThroughSeq: 0 });
    const [serverSeconds] = await client.time();
    await client.hSet(session.keys.observer, 'writtenAt', String((Number(serverSeconds) - 120) * 1000));
    const result = await session.notes({ maxAgeMs: 60_000 });
    expect(result).toMatchObject({ ready: true, stale: true });
    if (result.ready) expect(result.ageMs).toBeGreaterThanOrEqual(119_000);
  });

  it('never replaces notes that cover a later turn', async () => {
    const session = await testStore(client).create();
    expect(await session.writeNotes({ run: 'new' }, { coversThroughSeq: 10 })).toBe(true);
    expect(await session.writeNotes({ run: 'old' }, { coversThroughSeq: 7 })).toBe(false);
    expect(await session.notes()).toMatchObject({ notes: { run: 'new' }, coversThroughSeq: 10 });
  });

  it('refuses a fenced write whose lease token is no longer current', async () => {
    const session = await testStore(client).create();
    await client.set(session.keys.lease, 'token-2');
    await expect(session.writeNotes({ run: 1 }, { coversThroughSeq: 1, fencingToken: 'token-1' })).rejects.toThrow(LeaseLostError);
    expect(await session.notes()).toEqual({ ready: false });
    await expect(session.writeNotes({ run: 2 }, { coversThroughSeq: 1, fencingToken: 'token-2' })).resolves.toBe(true);
  });

  it('refuses fenced notes and errors alike once the lease has expired, writing nothing', async () => {
    const session = await testStore(client).create();
    // No lease key: the run's lease ran out.
    await expect(session.writeNotes({ run: 1 }, { coversThroughSeq: 0, fencingToken: 'token-1' })).rejects.toThrow(LeaseLostError);
    await expect(session.writeObserverError('timed out', { fencingToken: 'token-1' })).rejects.toThrow(LeaseLostError);
    await client.set(session.keys.lease, 'token-2');
    await expect(session.writeObserverError('timed out', { fencingToken: 'token-1' })).rejects.toThrow(LeaseLostError);
    expect(await session.notes()).toEqual({ ready: false });
  });

  it('refuses observer writes to a session that is gone, fenced or not, and recreates nothing', async () => {
    const store = testStore(client);
    const session = await store.create();
    await session.delete();
    // The session expired during a run whose lease still holds.
    await client.set(session.keys.lease, 'token-1');
    await expect(session.writeNotes({ late: true }, { coversThroughSeq: 0, fencingToken: 'token-1' })).rejects.toThrow(SessionNotFoundError);
    await expect(session.writeObserverError('late', { fencingToken: 'token-1' })).rejects.toThrow(SessionNotFoundError);
    await expect(session.writeNotes({ late: true }, { coversThroughSeq: 0 })).rejects.toThrow(SessionNotFoundError);
    await expect(session.writeObserverError('late')).rejects.toThrow(SessionNotFoundError);
    expect(await keysUnder(client, store.keyPrefix)).toEqual([session.keys.lease]);
  });

  it('keeps the notes and shows the last error after a failed run; a later success clears it', async () => {
    const session = await testStore(client).create();
    await session.writeNotes({ v: 1 }, { coversThroughSeq: 0 });
    await session.writeObserverError('analysis timed out');
    expect(await session.notes()).toMatchObject({ ready: true, notes: { v: 1 }, lastError: { message: 'analysis timed out' } });
    await session.writeNotes({ v: 2 }, { coversThroughSeq: 0 });
    expect(await session.notes()).not.toHaveProperty('lastError');
  });
});
