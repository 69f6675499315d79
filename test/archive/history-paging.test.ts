import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, InvalidSessionIdError } from 'agent-session';
import type { TurnRecord } from 'agent-session/archive';
import { archiveForThisFile, T0, turnBatch, uniqueId } from './support.js';

const { archive } = archiveForThisFile();
const id = uniqueId();
const neighbour = uniqueId();
const seqs = (page: TurnRecord[]) => page.map((turn) => turn.seq);
const range = (from: number, to: number) => Array.from({ length: Math.abs(to - from) + 1 }, (_, i) => (from <= to ? from + i : from - i));

beforeAll(async () => {
  // 620 turns arriving in drains of 31; a neighbour's turns in the same table must never show up.
  const batches = Array.from({ length: 20 }, (_, i) => turnBatch(id, i * 31 + 1, i * 31 + 31));
  await archive.writeBatches([...batches, turnBatch(neighbour, 1, 700)]);
});

describe('history beyond the window', () => {
  it('reads from the first turn, oldest first, 50 by default', async () => {
    expect(seqs(await archive.history(id))).toEqual(range(1, 50));
  });

  it('scrolls back from the newest turn page by page, each page newest first, and reaches every turn once', async () => {
    const seen: number[] = [];
    let beforeSeq: number | undefined;
    for (;;) {
      const page = await archive.history(id, { order: 'newest-first', limit: 200, ...(beforeSeq === undefined ? {} : { beforeSeq }) });
      if (page.length === 0) break;
      seen.push(...seqs(page));
      beforeSeq = page[page.length - 1]?.seq;
    }
    expect(seen).toEqual(range(620, 1));
  });

  it('pages forward with afterSeq', async () => {
    expect(seqs(await archive.history(id, { afterSeq: 600, limit: 500 }))).toEqual(range(601, 620));
    expect(await archive.history(id, { afterSeq: 620 })).toEqual([]);
  });

  it('combines a seq window with either order', async () => {
    expect(seqs(await archive.history(id, { afterSeq: 100, beforeSeq: 106 }))).toEqual(range(101, 105));
    expect(seqs(await archive.history(id, { afterSeq: 100, beforeSeq: 106, order: 'newest-first', limit: 2 }))).toEqual([105, 104]);
  });

  it('selects by time, inclusive at both ends', async () => {
    // turnBatch stamps turn n at T0 + n seconds.
    expect(seqs(await archive.history(id, { fromTime: T0 + 300_000, toTime: T0 + 305_000 }))).toEqual(range(300, 305));
    expect(seqs(await archive.history(id, { fromTime: T0 + 615_500 }))).toEqual(range(616, 620));
  });

  it('returns whole turn records', async () => {
    const [turn] = await archive.history(id, { afterSeq: 6, limit: 1 });
    expect(turn).toEqual({ kind: 'turn', seq: 7, ts: T0 + 7_000, role: 'user', content: 'turn 7' });
  });

  it('is empty for an unknown conversation', async () => {
    expect(await archive.history(uniqueId())).toEqual([]);
  });

  it('checks the query', async () => {
    const bad: unknown[] = [{ limit: 0 }, { limit: 501 }, { limit: 2.5 }, { beforeSeq: -1 }, { afterSeq: 'x' }, { fromTime: Number.NaN }, { order: 'random' }];
    for (const query of bad) {
      await expect(archive.history(id, query as object)).rejects.toBeInstanceOf(InvalidInputError);
    }
    await expect(archive.history(id, { limit: 500 })).resolves.toHaveLength(500);
    await expect(archive.history('*', {})).rejects.toBeInstanceOf(InvalidSessionIdError);
  });
});
