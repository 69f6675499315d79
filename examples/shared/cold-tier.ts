import { InvalidInputError, InvalidSessionIdError, SessionNotFoundError, UserRequiredError } from 'agent-session';
import type { RequestAgent } from 'agent-session/express';

/**
 * The example servers' cold tier, shared by the Express and the Koa example
 * so that both offer the same routes with the same answers. Each server only
 * adapts its framework's request to these functions and sends what they
 * return; the errors the middleware answers itself (403 for another user's
 * conversation, 503 while the archive or Redis is down or the backlog is
 * full) are thrown on to it.
 */

/** The archive when DATABASE_URL is set, else undefined, after saying in one line that the cold tier is off. */
export async function coldTierFromEnvironment(databaseUrl: string | undefined) {
  if (!databaseUrl) {
    console.log('cold tier off: set DATABASE_URL to archive conversations in PostgreSQL');
    return undefined;
  }
  // Loaded only now: without DATABASE_URL the example needs neither pg nor agent-session/archive.
  const { openArchive } = await import('./archive.js');
  const archive = await openArchive(databaseUrl);
  console.log('cold tier on: conversations are archived in PostgreSQL; run `npm run archiver` beside this server');
  return archive;
}

export interface Answer {
  status: number;
  body: unknown;
}

/** GET /conversations: the user's conversations, newest first (those the archiver has copied so far). */
export async function listConversations(agent: RequestAgent): Promise<Answer> {
  return answered(async () => {
    const { conversations } = await agent.conversations();
    return { status: 200, body: { conversations } };
  });
}

/** POST /conversations/:id/resume: this browser goes on with that conversation, brought back from PostgreSQL if it left Redis. */
export async function resumeConversation(agent: RequestAgent, id: string): Promise<Answer> {
  return answered(async () => ({ status: 200, body: await agent.resume(id) }));
}

/**
 * GET /history?beforeSeq=&limit=: the page of archived turns just before
 * `beforeSeq` (the newest ones without it), oldest first within the page.
 * To scroll back, ask again with the seq of the first turn shown.
 */
export async function readHistory(agent: RequestAgent, query: { beforeSeq?: unknown; limit?: unknown }): Promise<Answer> {
  const beforeSeq = wholeNumberParameter(query.beforeSeq);
  const limit = wholeNumberParameter(query.limit);
  if (beforeSeq === null || limit === null) return { status: 400, body: { error: 'invalid_query' } };
  return answered(async () => {
    // Newest first picks the page next to beforeSeq; it is turned around for reading.
    const page = await agent.history({ order: 'newest-first', ...(beforeSeq !== undefined ? { beforeSeq } : {}), ...(limit !== undefined ? { limit } : {}) });
    return { status: 200, body: { turns: page.reverse() } };
  });
}

/** A query parameter that must be a whole number if given: undefined when absent or empty, null when it is something else. */
function wholeNumberParameter(value: unknown): number | undefined | null {
  if (value === undefined || value === '') return undefined;
  return typeof value === 'string' && /^[1-9][0-9]{0,14}$/.test(value) ? Number(value) : null;
}

/** The library's errors that are the example's to answer; the rest go on to the middleware (or the framework's 500). */
async function answered(route: () => Promise<Answer>): Promise<Answer> {
  try {
    return await route();
  } catch (error) {
    // An unknown or erased conversation, or an id that no conversation can have.
    if (error instanceof SessionNotFoundError || error instanceof InvalidSessionIdError) return { status: 404, body: { error: 'conversation_not_found' } };
    if (error instanceof UserRequiredError) return { status: 401, body: { error: 'login_required' } };
    // A limit above what the archive serves (500), say.
    if (error instanceof InvalidInputError) return { status: 400, body: { error: 'invalid_query' } };
    throw error;
  }
}
