import { describe, expect, it } from 'vitest';
import { InvalidInputError } from 'agent-session';
import { clientForThisFile, testStore } from '../harness/store.js';

const client = clientForThisFile();

describe('turns', () => {
  it('assigns monotonic sequence numbers and server timestamps', async () => {
    const session = await testStore(client).create();
    const first = await session.appendTurn({ role: 'user', content: 'hello' });
    const second = await session.appendTurn({ role: 'assistant', content: 'hi there', toolCallId: 'call_1' });
    expect(first.seq).toBe(1);
    expect(second.seq).toBe(2);
    expect(second.ts).toBeGreaterThanOrEqual(first.ts);
    expect(await session.turns()).toEqual([first, second]);
    expect((await session.meta()).turnCount).toBe(2);
  });

  it('keeps a sliding window of the newest turns while seq keeps counting', async () => {
    const session = await testStore(client, { maxTurns: 5 }).create();
    for (let i = 1; i <= 12; i++) await session.appendTurn({ role: 'user', content: `m${i}` });
    const turns = await session.turns();
    expect(turns.map((turn) => turn.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(turns.map((turn) => turn.content)).toEqual(['m8', 'm9', 'm10', 'm11', 'm12']);
    expect((await session.meta()).turnCount).toBe(12);
  });

  it('reads the last N, a seq range and a time range', async () => {
    const session = await testStore(client, { maxTurns: 10 }).create();
    const appended = [];
    for (let i = 1; i <= 15; i++) appended.push(await session.appendTurn({ role: 'user', content: `m${i}` }));
    expect((await session.turns({ last: 3 })).map((t) => t.seq)).toEqual([13, 14, 15]);
    expect((await session.turns({ last: 0 }))).toEqual([]);
    expect((await session.turns({ fromSeq: 7, toSeq: 9 })).map((t) => t.seq)).toEqual([7, 8, 9]);
    // Seqs 1..5 left the window: a range reaching into them returns what is still kept.
    expect((await session.turns({ fromSeq: 1, toSeq: 7 })).map((t) => t.seq)).toEqual([6, 7]);
    expect((await session.turns({ fromSeq: 14 })).map((t) => t.seq)).toEqual([14, 15]);

    const inWindow = appended.slice(5);
    const from = inWindow[2]!.ts;
    const to = inWindow[6]!.ts;
    const expected = inWindow.filter((t) => t.ts >= from && t.ts <= to).map((t) => t.seq);
    expect((await session.turns({ fromTime: from, toTime: to })).map((t) => t.seq)).toEqual(expected);
    expect(await session.turns({ fromTime: to + 60_000 })).toEqual([]);
    expect((await session.turns({ fromTime: 0 })).map((t) => t.seq)).toEqual(inWindow.map((t) => t.seq));
  });

  it('rejects a turn with an unknown role or non-string content', async () => {
    const session = await testStore(client).create();
    await expect(session.appendTurn({ role: 'robot' as never, content: 'x' })).rejects.toThrow(InvalidInputError);
    await expect(session.appendTurn({ role: 'user', content: 42 as never })).rejects.toThrow(InvalidInputError);
    expect((await session.meta()).turnCount).toBe(0);
  });

  it('stores content byte-exact, including quotes, newlines and non-ASCII', async () => {
    const session = await testStore(client).create();
    const content = 'He said "hi"\n\\ \u00e9\u{1F600} </script> \u2028';
    await session.appendTurn({ role: 'user', content });
    expect((await session.turns())[0]!.content).toBe(content);
  });
});
