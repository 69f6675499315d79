import type { RedisClientType } from 'redis';
import { archiveIndexKey, sessionKeys } from '../../src/core/keys.js';

/**
 * How much the archiver still has to copy: the entries in the backlog of
 * every session the archive index names. (The index itself does not empty
 * when the backlogs do: the archiver forgets a session only after
 * 2 x registerEveryMs without an announcement, see lua/forget-1.lua. A
 * writer announces a session before its first backlog entry, so the index
 * names every non-empty backlog.)
 */
export async function backlogEntries(client: RedisClientType, prefix: string): Promise<number> {
  const ids = await client.zRange(archiveIndexKey(prefix), 0, -1);
  // node-redis sends these together in one write.
  const lengths = await Promise.all(ids.map((id) => client.lLen(sessionKeys(prefix, id).archive)));
  return lengths.reduce((sum, length) => sum + length, 0);
}

/** Polling period while waiting for the backlog to empty: the resolution of a drain time. */
export const BACKLOG_POLL_MS = 10;

/**
 * Waits until every backlog is empty; returns the milliseconds from `since`
 * (performance.now()) to the first poll that saw zero, or undefined when
 * `timeoutMs` passed first.
 */
export async function waitForEmptyBacklog(client: RedisClientType, prefix: string, since: number, timeoutMs: number): Promise<number | undefined> {
  for (;;) {
    const entries = await backlogEntries(client, prefix);
    const elapsed = performance.now() - since;
    if (entries === 0) return elapsed;
    if (elapsed > timeoutMs) return undefined;
    await new Promise((resolve) => setTimeout(resolve, BACKLOG_POLL_MS));
  }
}
