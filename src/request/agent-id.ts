import { createHash, randomBytes } from 'node:crypto';
import { assertValidId } from '../core/ids.js';
import { readLink, seedOf, type SessionData } from './agent-link.js';

/**
 * A new cookie session id, `{<agent id>}<random>`: it names, as a Redis
 * hash tag, the agent session the cookie session links (or will link: its
 * first write creates it under that id, see `agentIdFor`), so the cookie
 * session's key sits in the agent session's Cluster slot and one script can
 * load the one and keep both alive (loadAlong-5.lua). On a regenerate (a
 * login), the new id carries the linked agent session's id; for a fresh
 * cookie session the agent id is random. The secret part is the 24 random
 * bytes after the tag: the agent id is not a secret (it is given to
 * clients), and knowing it gives nothing of the cookie, which is signed.
 */
export function newCookieSessionId(current?: SessionData): string {
  const tag = readLink(current)?.id ?? randomBytes(18).toString('base64url');
  return `{${tag}}${randomBytes(24).toString('base64url')}`;
}

/** The agent session id a cookie session id carries as its hash tag (see `newCookieSessionId`); undefined for an id without one (made by an earlier version, or by another session setup). */
export function agentTagOf(cookieSessionId: string): string | undefined {
  if (cookieSessionId.charCodeAt(0) !== 123 /* { */) return undefined;
  const end = cookieSessionId.indexOf('}');
  if (end < 2) return undefined;
  const tag = cookieSessionId.slice(1, end);
  try {
    assertValidId(tag);
  } catch {
    return undefined;
  }
  return tag;
}

/**
 * The id of the agent session a cookie session starts: the agent id its id
 * carries (see `newCookieSessionId`), else (an id without one, or after a
 * `detach()`, whose seed must lead elsewhere) derived from the
 * cookie session's id (and the seed a `detach()` left), so that concurrent
 * first writes of one cookie session (a page firing several requests at once)
 * all land on one agent session instead of each creating its own and the
 * last one winning. One-way (a SHA-256), so exposing the agent id reveals
 * nothing about the cookie.
 */
export function agentIdFor(cookieSessionId: string, session?: SessionData): string {
  const seed = seedOf(session);
  if (seed === undefined) {
    const tag = agentTagOf(cookieSessionId);
    if (tag !== undefined) return tag;
  }
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
