import { createHash, randomBytes } from 'node:crypto';
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
const FIELD = 'agentSession';

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
function seedOf(session: SessionData | undefined): string | undefined {
  const value = session?.[FIELD];
  if (typeof value !== 'object' || value === null) return undefined;
  const { seed } = value as Record<string, unknown>;
  return typeof seed === 'string' ? seed : undefined;
}

/**
 * Copies the link and this request's marks from one cookie session's data
 * to another (across express-session's regenerate, which replaces the object).
 * A seed is not copied: the new cookie session id already derives a new agent id.
 */
export function carryLink(from: SessionData | undefined, to: SessionData): void {
  const link = readLink(from);
  if (link) writeLink(to, link);
  if (from) carryRequestMarks(from, to);
}

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

/**
 * Per-request marks on a cookie session object, for the store's
 * end-of-request refresh. Behind a symbol, non-enumerable: never serialized,
 * never part of the session's change detection.
 * - `agentTtlHandled`: this request already reset the agent keys' TTL (any
 *   agent call does), or must not touch them (a refused call), so the
 *   refresh sends no agent TOUCH;
 * - `user`: the request's user, as `getUserId` says at the time it is asked
 *   (the user can change during a request, at login or logout).
 */
interface RequestMarks {
  agentTtlHandled?: boolean;
  user?: () => string | null;
}

const REQUEST_MARKS = Symbol('agent-session: this request');

function marksOf(session: object): RequestMarks {
  const holder = session as { [REQUEST_MARKS]?: RequestMarks };
  let marks = holder[REQUEST_MARKS];
  if (!marks) {
    marks = {};
    Object.defineProperty(session, REQUEST_MARKS, { value: marks, enumerable: false, configurable: true });
  }
  return marks;
}

function carryRequestMarks(from: object, to: object): void {
  const marks = (from as { [REQUEST_MARKS]?: RequestMarks })[REQUEST_MARKS];
  if (marks) Object.assign(marksOf(to), marks);
}

export function markAgentTtlHandled(session: object): void {
  marksOf(session).agentTtlHandled = true;
}

export function agentTtlHandled(session: object | undefined): boolean {
  return session !== undefined && (session as { [REQUEST_MARKS]?: RequestMarks })[REQUEST_MARKS]?.agentTtlHandled === true;
}

/** Records how to ask for the request's user on its cookie session object. */
export function markRequestUser(session: object, user: () => string | null): void {
  marksOf(session).user = user;
}

/** How to ask for the request's user; undefined when the session object was not seen by the middleware (e.g. reloaded). */
export function requestUserOf(session: object | undefined): (() => string | null) | undefined {
  return session === undefined ? undefined : (session as { [REQUEST_MARKS]?: RequestMarks })[REQUEST_MARKS]?.user;
}
