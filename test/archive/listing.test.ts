import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from 'agent-session';
import type { ConversationSummary } from 'agent-session/archive';
import { archiveForThisFile, meta, T0, uniqueId } from './support.js';

const { archive } = archiveForThisFile();
const user = uniqueId('user');
const ids: string[] = [];

beforeAll(async () => {
  // 45 conversations of one user; groups of three share a lastActive, so the
  // pages must break ties by id to show each exactly once.
  for (let i = 0; i < 45; i++) ids.push(uniqueId());
  await archive.writeBatches(
    ids.map((sessionId, i) => ({
      sessionId,
      meta: meta({ userId: user, createdAt: T0 + i, lastActive: T0 + Math.floor(i / 3) * 1_000, turnCount: i }),
      records: [],
    })),
  );
  // Another user's and an anonymous conversation: never in this user's list.
  await archive.writeBatches([
    { sessionId: uniqueId(), meta: meta({ userId: `${user}-other`, lastActive: T0 + 999_999 }), records: [] },
    { sessionId: uniqueId(), meta: meta({ userId: undefined, lastActive: T0 + 999_999 }), records: [] },
  ]);
});

/** The expected order: newest activity first, ties by id descending. */
function newestFirst(): string[] {
  return ids
    .map((id, i) => ({ id, lastActive: T0 + Math.floor(i / 3) * 1_000 }))
    .sort((a, b) => b.lastActive - a.lastActive || (a.id < b.id ? 1 : -1))
    .map((row) => row.id);
}

describe("a user's conversations", () => {
  it('pages through all of them newest first, each exactly once, and says when there are no more', async () => {
    const seen: ConversationSummary[] = [];
    let page = await archive.listConversations(user, { limit: 10 });
    const sizes = [page.conversations.length];
    seen.push(...page.conversations);
    while (page.next) {
      page = await archive.listConversations(user, { limit: 10, before: page.next });
      sizes.push(page.conversations.length);
      seen.push(...page.conversations);
    }
    expect(sizes).toEqual([10, 10, 10, 10, 5]);
    expect(seen.map((conversation) => conversation.id)).toEqual(newestFirst());
  });

  it('describes each conversation: id, turn count, created, last active, and the title once the app set one', async () => {
    const newest = newestFirst()[0] ?? '';
    const index = ids.indexOf(newest);
    expect(await archive.setTitle(newest, 'Refund for order A17')).toBe(true);
    const { conversations } = await archive.listConversations(user, { limit: 1 });
    expect(conversations).toEqual([
      { id: newest, title: 'Refund for order A17', turnCount: index, createdAt: T0 + index, lastActive: T0 + Math.floor(index / 3) * 1_000 },
    ]);
    expect(await archive.setTitle(newest, null)).toBe(true);
    expect((await archive.listConversations(user, { limit: 1 })).conversations[0]).not.toHaveProperty('title');
  });

  it('has no next page when the last one is exactly full', async () => {
    const page = await archive.listConversations(user, { limit: 45 });
    expect(page.conversations).toHaveLength(45);
    expect(page.next).toBeUndefined();
  });

  it('is empty for a user without conversations', async () => {
    expect(await archive.listConversations(uniqueId('nobody'))).toEqual({ conversations: [] });
  });

  it('titles are bounded; setting one on a conversation the archive does not hold answers false', async () => {
    await expect(archive.setTitle(ids[0] ?? '', 'x'.repeat(201))).rejects.toBeInstanceOf(InvalidInputError);
    await expect(archive.setTitle(ids[0] ?? '', '')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(archive.setTitle(ids[0] ?? '', 'x'.repeat(200))).resolves.toBe(true);
    await expect(archive.setTitle(uniqueId(), 'Nothing there')).resolves.toBe(false);
  });

  it('checks the page and the user id', async () => {
    const bad: unknown[] = [{ limit: 0 }, { limit: 101 }, { before: { lastActive: -1, id: 'x' } }, { before: { lastActive: 1, id: 'a b' } }, { before: 'x' }];
    for (const page of bad) {
      await expect(archive.listConversations(user, page as object)).rejects.toThrow(/`limit`|`before`|conversation id/);
    }
    await expect(archive.listConversations('')).rejects.toBeInstanceOf(InvalidInputError);
  });
});
