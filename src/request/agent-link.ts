import { randomBytes } from 'node:crypto';
import { assertValidId } from '../core/ids.js';

/**
 * What a cookie session remembers about its agent session: the agent
 * session's id and the user it is bound to. It lives in the cookie session's
 * data (field `agentSession`), so it follows the cookie session through
 * `regenerate()` on login and dies with it.
 */
export interface AgentLink {
  id: string;
  /** The user the agent session is bound to; absent while it is anonymous (the first user to write binds it). */
  userId?: string;
}

export type SessionData = Record<string, unknown>;

/**
 * The field's value: `{ id, userId? }` while linked; `{ seed }` after
 * `detach()`, so that the next agent session of this cookie session gets
 * another id than the one it left (see `agentIdFor`).
 */
export const LINK_FIELD = 'agentSession';
const FIELD = LINK_FIELD;

function isSafeId(id: unknown): id is string {
  try {
    assertValidId(id);
    return true;
  } catch {
    return false;
  }
}

/** The link in a cookie session's data, or undefined when there is none or it is malformed. */
export function readLink(session: SessionData | undefined): AgentLink | undefined {
  const value = session?.[FIELD];
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, userId } = value as Record<string, unknown>;
  if (!isSafeId(id)) return undefined;
  return typeof userId === 'string' ? { id, userId } : { id };
}

/**
 * The binding recorded in the cookie session, checked before Redis is asked:
 * true when the agent session is bound to someone other than this request's
 * user (an anonymous request counts as someone else).
 */
export function boundToSomeoneElse(link: AgentLink | undefined, user: string | null): boolean {
  return link?.userId !== undefined && link.userId !== user;
}

export function writeLink(session: SessionData, link: AgentLink | undefined): void {
  if (link === undefined) delete session[FIELD];
  else session[FIELD] = link.userId === undefined ? { id: link.id } : { id: link.id, userId: link.userId };
}

/**
 * Forgets the link (no Redis call: the agent session itself stays, and
 * expires on its own) and leaves a fresh seed, so the next first write of
 * this cookie session derives a new agent session id instead of landing on
 * the one it just left.
 */
export function detachLink(session: SessionData): void {
  session[FIELD] = { seed: randomBytes(9).toString('base64url') };
}

/** The seed `detachLink` left, if any. */
export function seedOf(session: SessionData | undefined): string | undefined {
  const value = session?.[FIELD];
  if (typeof value !== 'object' || value === null) return undefined;
  const { seed } = value as Record<string, unknown>;
  return typeof seed === 'string' ? seed : undefined;
}

/**
 * Copies the link from one cookie session's data to another (across
 * express-session's regenerate, which replaces the object). A seed is not
 * copied: the new cookie session id already derives a new agent id.
 */
export function carryLink(from: SessionData | undefined, to: SessionData): void {
  const link = readLink(from);
  if (link) writeLink(to, link);
}
