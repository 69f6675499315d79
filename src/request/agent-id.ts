import { createHash } from 'node:crypto';
import { seedOf, type SessionData } from './agent-link.js';

/**
 * The id of the agent session a cookie session starts: derived from the
 * cookie session's id (and the seed a `detach()` left), so that concurrent
 * first writes of one cookie session (a page firing several requests at once)
 * all land on one agent session instead of each creating its own and the
 * last one winning. One-way (a SHA-256), so exposing the agent id reveals
 * nothing about the cookie.
 */
export function agentIdFor(cookieSessionId: string, session?: SessionData): string {
  const seed = seedOf(session);
  return digest(seed === undefined ? `agent-session:${cookieSessionId}` : `agent-session:${cookieSessionId}:${seed}`);
}

/**
 * The id a cookie session's conversation goes on under when, with the cold
 * tier, its agent session left Redis and the archive cannot bring it back
 * (never archived yet, or erased). Not the old id: its backlog may still hold
 * turns waiting for the archiver, whose seqs a fresh start would reuse, and
 * an erased id stays erased (the archive drops anything written under it).
 * Derived, like `agentIdFor`, so that concurrent writes of one cookie session
 * all go on under the same successor. A seed never contains ':', so no input
 * here is also an input of `agentIdFor`.
 */
export function successorIdFor(cookieSessionId: string, previousId: string): string {
  return digest(`agent-session:${cookieSessionId}:after:${previousId}`);
}

function digest(input: string): string {
  return createHash('sha256').update(input).digest('base64url').slice(0, 32);
}
