import type { AgentStore } from '../core/agent-store.js';
import { SessionUserMismatchError } from '../errors.js';
import type { CookieSessionRedis } from './cookie-session-redis.js';
import { agentTtlHandled, boundToSomeoneElse, markAgentTtlHandled, requestUserOf, type AgentLink } from './agent-link.js';

/**
 * Activity-based expiry in at most one extra round trip: at the end of a
 * request the cookie-session store writes or extends the cookie session, and
 * the agent session's keys get their TTL reset by the same call.
 * - Extending an unchanged cookie session (the common case) goes through
 *   `extendWithAgentRefresh`: one script for both where they share a node.
 * - Otherwise (a changed cookie session, or Cluster) both commands are
 *   started before either is awaited: on one connection node-redis writes
 *   commands issued in the same tick together, so they are pipelined; on
 *   Cluster they go out in parallel on two connections.
 * - When the server does not know a script yet (first use, a restart, a
 *   failover), its NOSCRIPT reply costs one more round trip: the script is
 *   sent again with EVAL.
 *
 * The agent TOUCH is skipped (`agentTouchCaller` says why) and the cookie
 * session is still written or extended.
 */
export async function withAgentRefresh<T>(
  cookieSessionCommand: () => Promise<T>,
  agents: AgentStore,
  link: AgentLink | undefined,
  requestSession: object | undefined,
): Promise<T> {
  const caller = agentTouchCaller(link, requestSession);
  const agentTouch = link !== undefined && caller !== undefined ? touchAgent(agents, link.id, caller) : undefined;
  const [result] = await Promise.all([cookieSessionCommand(), agentTouch]);
  if (agentTouch && requestSession) markAgentTtlHandled(requestSession);
  return result;
}

/**
 * The refresh of a request whose cookie session did not change: extend the
 * cookie session (PEXPIRE, never recreating it) and reset the agent keys'
 * TTL. Where both live on one node (standalone, Sentinel) that is a single
 * script call, so keeping a session alive costs the same one command after
 * the load as it does without agent state; on Cluster it is the two
 * commands of `withAgentRefresh`, in parallel.
 */
export async function extendWithAgentRefresh(
  redis: CookieSessionRedis,
  key: string,
  ttlMs: number,
  agents: AgentStore,
  link: AgentLink | undefined,
  requestSession: object | undefined,
): Promise<void> {
  if (!redis.sharesNodeWithAgents) {
    await withAgentRefresh(() => redis.extend(key, ttlMs), agents, link, requestSession);
    return;
  }
  const caller = agentTouchCaller(link, requestSession);
  if (link === undefined || caller === undefined) {
    await redis.extend(key, ttlMs);
    return;
  }
  // Another user's session is left untouched by the script (not refused), and the cookie session is still extended.
  await agents.session(link.id, { caller }).touchAlong(key, ttlMs);
  if (requestSession) markAgentTtlHandled(requestSession);
}

/**
 * Whether the end-of-request refresh touches the agent session, and as
 * whom: the user to pass as the caller, or undefined for no TOUCH, when
 * - there is no agent session;
 * - this request already reset its TTL (every agent call does, and so does an
 *   earlier save of this request, e.g. koa-session's at regenerate) or must
 *   not touch it (a refused call);
 * - the request's user is unknown to the refresh (a session object the
 *   middleware did not see, e.g. after `req.session.reload()`), or
 *   `getUserId` throws: not touching is the safe side;
 * - the cookie session records a binding to another user than the request's:
 *   another user's conversation must not be kept alive by this browser.
 * The TOUCH passes the user as the caller, so Redis refuses it too when the
 * binding it holds says otherwise (see `touchAgent`).
 */
export function agentTouchCaller(link: AgentLink | undefined, requestSession: object | undefined): string | null | undefined {
  if (link === undefined || agentTtlHandled(requestSession)) return undefined;
  const user = requestUserOf(requestSession);
  if (user === undefined) return undefined;
  let caller: string | null;
  try {
    caller = user();
  } catch {
    return undefined;
  }
  return boundToSomeoneElse(link, caller) ? undefined : caller;
}

/** TOUCH as `caller`; a refusal by the binding in Redis means nothing was touched, which is all the refresh needs. */
async function touchAgent(agents: AgentStore, id: string, caller: string | null): Promise<void> {
  try {
    await agents.session(id, { caller }).touch();
  } catch (error) {
    if (!(error instanceof SessionUserMismatchError)) throw error;
  }
}
