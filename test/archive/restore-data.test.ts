import { describe, expect, it } from 'vitest';
import { InvalidInputError, InvalidSessionIdError } from 'agent-session';
import type { ToolRecord } from 'agent-session/archive';
import { archiveForThisFile, meta, T0, turnBatch, turns, uniqueId } from './support.js';

const { archive } = archiveForThisFile();

describe('data for a restore', () => {
  it('gives back the metadata exactly as archived, the newest maxTurns turns oldest first, every tool call and the latest notes', async () => {
    const id = uniqueId();
    const archivedMeta = meta({ currentTask: 'refund', fields: { locale: 'de', plan: 'pro' }, turnCount: 120, lastActive: T0 + 120_000 });
    const started: ToolRecord = { kind: 'tool', callId: 'call-b', name: 'refund', status: 'pending', args: { amount: 5 }, startedAt: T0 + 200 };
    const finished: ToolRecord = {
      kind: 'tool',
      callId: 'call-a',
      name: 'lookup',
      status: 'completed',
      args: null,
      result: { found: [1, 2] },
      startedAt: T0 + 100,
      finishedAt: T0 + 150,
    };
    await archive.writeBatches([
      { sessionId: id, meta: archivedMeta, records: [...turns(1, 60), finished, { kind: 'notes', coversThroughSeq: 40, writtenAt: T0 + 5, notes: 'old' }] },
      {
        sessionId: id,
        meta: archivedMeta,
        records: [
          ...turns(61, 120),
          started,
          { kind: 'notes', coversThroughSeq: 100, writtenAt: T0 + 7, notes: { summary: 'latest' } },
          { kind: 'notes', coversThroughSeq: 100, writtenAt: T0 + 6, notes: 'same turns, written earlier' },
        ],
      },
    ]);

    const data = await archive.loadForRestore(id, 50);
    expect(data?.meta).toEqual(archivedMeta);
    expect(data?.turns.map((turn) => turn.seq)).toEqual(turns(71, 120).map((turn) => turn.seq));
    expect(data?.turns[0]).toEqual(turns(71, 71)[0]);
    expect(data?.toolCalls).toEqual([finished, started]);
    expect(data?.notes).toEqual({ kind: 'notes', coversThroughSeq: 100, writtenAt: T0 + 7, notes: { summary: 'latest' } });
    expect(data?.lastSeq).toBe(120);
  });

  it('turn records round-trip: optional toolCallId present only when set, absent fields absent', async () => {
    const id = uniqueId();
    await archive.writeBatches([
      {
        sessionId: id,
        meta: meta({ userId: undefined, agentId: undefined, model: undefined, fields: {}, turnCount: 2 }),
        records: [
          { kind: 'turn', seq: 1, ts: T0, role: 'assistant', content: 'calling', toolCallId: 'call-1' },
          { kind: 'turn', seq: 2, ts: T0 + 1, role: 'tool', content: '{"ok":true}' },
        ],
      },
    ]);
    const data = await archive.loadForRestore(id, 10);
    expect(data?.turns).toEqual([
      { kind: 'turn', seq: 1, ts: T0, role: 'assistant', content: 'calling', toolCallId: 'call-1' },
      { kind: 'turn', seq: 2, ts: T0 + 1, role: 'tool', content: '{"ok":true}' },
    ]);
    expect(data?.meta).toEqual({ fields: {}, createdAt: T0, lastActive: T0 + 1_000, turnCount: 2, idleTimeoutMs: 3_600_000 });
    expect(data?.notes).toBeNull();
  });

  it('tells a JSON null apart from an absent value in tool calls', async () => {
    const id = uniqueId();
    const nullResult: ToolRecord = { kind: 'tool', callId: 'call-1', name: 'noop', status: 'completed', args: null, result: null, startedAt: T0, finishedAt: T0 };
    const noArgs: ToolRecord = { kind: 'tool', callId: 'call-2', name: 'ping', status: 'pending', args: undefined, startedAt: T0 + 1 };
    await archive.writeBatches([{ sessionId: id, meta: meta(), records: [nullResult, noArgs] }]);
    const [first, second] = (await archive.loadForRestore(id, 10))?.toolCalls ?? [];
    expect(first).toStrictEqual(nullResult);
    expect(second).toHaveProperty('args', undefined);
    expect(second).not.toHaveProperty('result');
  });

  it('lastSeq is never below the archived turnCount, nor below the highest archived turn', async () => {
    // The meta says 30 turns were appended, but only 1..20 have arrived so far.
    const ahead = uniqueId();
    await archive.writeBatches([turnBatch(ahead, 1, 20, { turnCount: 30 })]);
    expect((await archive.loadForRestore(ahead, 50))?.lastSeq).toBe(30);
    // Turns 21..25 arrived after the session's meta was gone: meta says 20.
    const behind = uniqueId();
    await archive.writeBatches([turnBatch(behind, 1, 20), { sessionId: behind, meta: null, records: turns(21, 25) }]);
    const data = await archive.loadForRestore(behind, 50);
    expect(data?.meta.turnCount).toBe(20);
    expect(data?.lastSeq).toBe(25);
  });

  it('is null for an unknown conversation and for an erased one', async () => {
    expect(await archive.loadForRestore(uniqueId(), 50)).toBeNull();
    const id = uniqueId();
    await archive.writeBatches([turnBatch(id, 1, 3)]);
    await archive.erase(id);
    expect(await archive.loadForRestore(id, 50)).toBeNull();
    expect(await archive.owner(id)).toBeNull();
  });

  it('owner() tells the bound user, null for an anonymous conversation', async () => {
    const bound = uniqueId();
    const anonymous = uniqueId();
    await archive.writeBatches([turnBatch(bound, 1, 1, { userId: 'user-7' }), turnBatch(anonymous, 1, 1, { userId: undefined })]);
    expect(await archive.owner(bound)).toEqual({ userId: 'user-7' });
    expect(await archive.owner(anonymous)).toEqual({ userId: null });
  });

  it('checks its arguments', async () => {
    await expect(archive.loadForRestore('no spaces allowed', 50)).rejects.toBeInstanceOf(InvalidSessionIdError);
    for (const maxTurns of [0, -1, 1.5, 100_001, Number.NaN]) {
      await expect(archive.loadForRestore(uniqueId(), maxTurns)).rejects.toBeInstanceOf(InvalidInputError);
    }
    await expect(archive.owner('a:b')).rejects.toBeInstanceOf(InvalidSessionIdError);
  });
});
