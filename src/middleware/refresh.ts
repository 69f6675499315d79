import type { AgentStore } from '../core/agent-store.js';
import { SessionUserMismatchError } from '../core/errors.js';
import { agentTtlHandled, boundToSomeoneElse, markAgentTtlHandled, requestUserOf, type AgentLink } from './agent-link.js';

/**
 * Activity-based expiry in at most one extra round trip: at the end of a
 * request the cookie-session store writes or extends the cookie session, and
 * the agent session's keys get their TTL reset by the same call. Both
 * commands are started before either is awaited, so neither waits for the
 * other:
 * - on one connection (standalone, Sentinel) node-redis writes commands
 *   issued in the same tick together, so the two are pipelined and the
 *   request waits one round trip for both;
 * - on Cluster the cookie-session key and the agent keys hash to different
 *   slots, usually on different nodes: the two go out in parallel on two
 *   connections, and the request waits for the slower one;
 * - when the server does not know the TOUCH script yet (first use, a
 *   restart, a failover), its NOSCRIPT reply costs one more round trip: the
 *   script is sent again with EVAL.
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
