import { createHash } from 'node:crypto';
import { MAX_ID_LENGTH } from '../core/ids.js';

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

const FIELD = 'agentSession';
const SAFE_ID = /^[A-Za-z0-9_-]+$/;

/** The link in a cookie session's data, or undefined when there is none or it is malformed. */
export function readLink(session: SessionData | undefined): AgentLink | undefined {
  const value = session?.[FIELD];
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, userId } = value as Record<string, unknown>;
  if (typeof id !== 'string' || id.length > MAX_ID_LENGTH || !SAFE_ID.test(id)) return undefined;
  return typeof userId === 'string' ? { id, userId } : { id };
}

export function writeLink(session: SessionData, link: AgentLink | undefined): void {
  if (link === undefined) delete session[FIELD];
  else session[FIELD] = link.userId === undefined ? { id: link.id } : { id: link.id, userId: link.userId };
}

/** Copies the link from one cookie session's data to another (across regenerate). */
export function carryLink(from: SessionData | undefined, to: SessionData): void {
  const link = readLink(from);
  if (link) writeLink(to, link);
  if (from && agentTtlHandled(from)) markAgentTtlHandled(to);
}

/**
 * The id of the agent session a cookie session starts: derived from the
 * cookie session's id, so that concurrent first writes of one cookie session
 * (a page firing several requests at once) all land on one agent session
 * instead of each creating its own and the last one winning. One-way (a
 * SHA-256), so exposing the agent id reveals nothing about the cookie.
 */
export function agentIdFor(cookieSessionId: string): string {
  return createHash('sha256').update(`agent-session:${cookieSessionId}`).digest('base64url').slice(0, 32);
}

/**
 * Set on a cookie session object when this request already reset the agent
 * keys' TTL (any agent call does), or must not touch them (a 403), so the
 * store's end-of-request refresh skips the agent TOUCH. A non-enumerable
 * symbol: never serialized, never part of the session's change detection.
 */
const AGENT_TTL_HANDLED = Symbol('agent-session: agent TTL handled in this request');

export function markAgentTtlHandled(session: object): void {
  Object.defineProperty(session, AGENT_TTL_HANDLED, { value: true, enumerable: false, configurable: true });
}

export function agentTtlHandled(session: object | undefined): boolean {
  return session !== undefined && (session as { [AGENT_TTL_HANDLED]?: boolean })[AGENT_TTL_HANDLED] === true;
}
