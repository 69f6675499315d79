import { describe, expect, it } from 'vitest';
import { createArchiver } from 'agent-session/archive';
import type { AnalyzeInput } from 'agent-session/observer';
import { testStore } from '../harness/store.js';
import { finished, startWorker, useRedis } from '../observer/support.js';
import { archiveForThisFile } from './support.js';

/**
 * With the cold tier, the observer hands `analyze` the turns that left the
 * window before any notes saw them, read back from PostgreSQL.
 */
const redis = useRedis();
const { archive } = archiveForThisFile();

describe('the observer with the cold tier', () => {
  it('gets the turns it missed from the archive, oldest first, and nothing counted as missed', async () => {
    const store = testStore(redis.client, { maxTurns: 5, archive: { tier: archive } });
    const session = await store.create({ userId: 'ada' });
    for (let i = 1; i <= 12; i++) await session.appendTurn({ role: 'user', content: `turn ${i}` });
    await createArchiver({ redis: { client: redis.client, failFastMs: 2_000 }, archive, keyPrefix: store.keyPrefix }).drainAll();

    const seen: Array<AnalyzeInput<unknown>> = [];
    const { events } = await startWorker(store, { archive, analyze: (input) => (seen.push(input), { seen: input.turns.length }) });
    await session.requestObservation();
    await events.until('a written run', finished('written'));
    expect(seen[0]!.turns.map((turn) => turn.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(seen[0]!.missedTurns).toBe(0);
  });

  it('without the archive, counts the turns that left the window as missed', async () => {
    const store = testStore(redis.client, { maxTurns: 5 });
    const session = await store.create({ userId: 'ada' });
    for (let i = 1; i <= 12; i++) await session.appendTurn({ role: 'user', content: `turn ${i}` });
    const seen: Array<AnalyzeInput<unknown>> = [];
    const { events } = await startWorker(store, { analyze: (input) => (seen.push(input), { seen: input.turns.length }) });
    await session.requestObservation();
    await events.until('a written run', finished('written'));
    expect(seen[0]!.turns.map((turn) => turn.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(seen[0]!.missedTurns).toBe(7);
  });
});
