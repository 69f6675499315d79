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
  const input = seed === undefined ? `agent-session:${cookieSessionId}` : `agent-session:${cookieSessionId}:${seed}`;
  return createHash('sha256').update(input).digest('base64url').slice(0, 32);
}
