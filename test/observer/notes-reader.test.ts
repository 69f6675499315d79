import type { SessionHandle } from '../../src/core/agent-session.js';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, type NotesResult } from 'agent-session';
import { handleObserverNotesTool, observerNotesTool } from 'agent-session/observer';
import { testStore } from '../harness/store.js';
import { useRedis } from './support.js';

const redis = useRedis();

async function sessionWithNotes(turns: number, coversThroughSeq: number): Promise<SessionHandle> {
  const session = await testStore(redis.client).create();
  for (let i = 1; i <= turns; i++) await session.appendTurn({ role: 'user', content: `turn ${i}` });
  await session.writeNotes({ intent: 'refund' }, { coversThroughSeq });
  return session;
}

/** Moves the notes' write time into the past, as if they had been written `ms` ago. */
async function age(session: SessionHandle, ms: number): Promise<void> {
  const writtenAt = Number(await redis.client.hGet(session.keys.observer, 'writtenAt'));
  await redis.client.hSet(session.keys.observer, 'writtenAt', String(writtenAt - ms));
}

describe('reading notes', () => {
  it('says ready: false before the first run', async () => {
    const session = await testStore(redis.client).create();
    expect(await session.notes({ maxAgeMs: 1_000, maxLagTurns: 0 })).toEqual({ ready: false });
  });

  it('returns fresh notes with their age and lag', async () => {
    const session = await sessionWithNotes(3, 3);
    const notes = await session.notes({ maxAgeMs: 60_000, maxLagTurns: 0 });
    expect(notes).toMatchObject({ ready: true, stale: false, lagTurns: 0, coversThroughSeq: 3, notes: { intent: 'refund' } });
    expect(notes.ready && notes.ageMs).toBeGreaterThanOrEqual(0);
  });

  it('marks notes stale by age', async () => {
    const session = await sessionWithNotes(1, 1);
    await age(session, 10 * 60_000);
    const notes = await session.notes({ maxAgeMs: 60_000 });
    expect(notes).toMatchObject({ ready: true, stale: true, lagTurns: 0 });
    expect(notes.ready && notes.ageMs).toBeGreaterThanOrEqual(10 * 60_000);
    expect(await session.notes({ maxAgeMs: 60 * 60_000 })).toMatchObject({ stale: false });
    expect(await session.notes()).toMatchObject({ stale: false });
  });

  it('marks notes stale by turns', async () => {
    const session = await sessionWithNotes(5, 2);
    expect(await session.notes({ maxLagTurns: 2 })).toMatchObject({ ready: true, stale: true, lagTurns: 3, coversThroughSeq: 2 });
    expect(await session.notes({ maxLagTurns: 3 })).toMatchObject({ stale: false, lagTurns: 3 });
    // Either tolerance is enough to make them stale.
    expect(await session.notes({ maxAgeMs: 60 * 60_000, maxLagTurns: 0 })).toMatchObject({ stale: true });
  });
});

describe('the get_observer_notes tool', () => {
  it('is a tool definition with a JSON Schema for the two tolerances', () => {
    expect(observerNotesTool.name).toBe('get_observer_notes');
    expect(observerNotesTool.description.length).toBeGreaterThan(50);
    expect(observerNotesTool.parameters).toMatchObject({
      type: 'object',
      properties: { maxAgeMs: { type: 'integer', minimum: 0 }, maxLagTurns: { type: 'integer', minimum: 0 } },
      additionalProperties: false,
    });
    expect(JSON.parse(JSON.stringify(observerNotesTool))).toEqual(observerNotesTool);
  });

  /** The handler's answer equals notes() read just before and after it, apart from the age, which lies between theirs. */
  async function expectSameAsNotes(session: SessionHandle, args: unknown, query: object): Promise<NotesResult> {
    const before = await session.notes(query);
    const answer = await handleObserverNotesTool(session, args);
    const after = await session.notes(query);
    expect(JSON.parse(JSON.stringify(answer))).toEqual(answer);
    if (!answer.ready || !before.ready || !after.ready) {
      expect(answer).toEqual(before);
      return answer;
    }
    expect(answer).toEqual({ ...before, ageMs: answer.ageMs });
    expect(answer.ageMs).toBeGreaterThanOrEqual(before.ageMs);
    expect(answer.ageMs).toBeLessThanOrEqual(after.ageMs);
    return answer;
  }

  it('returns the same JSON as notes(), from parsed or string arguments', async () => {
    const session = await sessionWithNotes(4, 2);
    expect(await expectSameAsNotes(session, { maxLagTurns: 1 }, { maxLagTurns: 1 })).toMatchObject({ stale: true });
    expect(await expectSameAsNotes(session, '{"maxLagTurns": 2, "maxAgeMs": 600000}', { maxLagTurns: 2, maxAgeMs: 600_000 })).toMatchObject({
      stale: false,
    });
    await expectSameAsNotes(session, undefined, {});
    await expectSameAsNotes(session, '', {});
    await expectSameAsNotes(await testStore(redis.client).create(), {}, {});
  });

  it('refuses invalid arguments with a message the model can act on', async () => {
    const session = await sessionWithNotes(1, 1);
    await expect(handleObserverNotesTool(session, '{not json')).rejects.toThrow(InvalidInputError);
    await expect(handleObserverNotesTool(session, { maxAgeMs: -1 })).rejects.toThrow(/maxAgeMs must be a whole number >= 0/);
    await expect(handleObserverNotesTool(session, { maxLagTurns: 'two' })).rejects.toThrow(/maxLagTurns/);
    await expect(handleObserverNotesTool(session, [1])).rejects.toThrow(/must be an object/);
  });
});
