import type { ColdTier } from '../../src/core/cold-tier.js';

/**
 * A cold tier for tests whose path must never reach one: the backlog (a
 * write refused because it is full), resuming a conversation that is still
 * in Redis, the checks that come before any archive read. The store needs a
 * tier to archive at all; this one is not a stand-in for PostgreSQL, since it
 * answers nothing: every method records its name and throws, so a test
 * whose path does reach the tier fails (a 500, and a recorded call) instead
 * of passing on made-up archive answers. What does need the archive is
 * tested against PostgreSQL in cold-tier.test.ts.
 */
export function unreachedTier(): ColdTier & { readonly calls: string[] } {
  const calls: string[] = [];
  const reached = (method: string) => async (): Promise<never> => {
    calls.push(method);
    throw new Error(`the cold tier was reached (${method}), in a test whose path must not reach it`);
  };
  return {
    calls,
    writeBatches: reached('writeBatches'),
    owner: reached('owner'),
    loadForRestore: reached('loadForRestore'),
    history: reached('history'),
    listConversations: reached('listConversations'),
    erase: reached('erase'),
  };
}
