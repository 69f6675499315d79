import type { AgentStore } from '../core/agent-store.js';
import { agentTtlHandled, markAgentTtlHandled, type AgentLink } from './agent-link.js';

/**
 * Activity-based expiry in one round trip: at the end of a request the
 * cookie-session store writes or extends the cookie session, and the agent
 * session's keys get their TTL reset by the same call. Both commands are
 * issued in the same tick, so node-redis sends them in one write and the
 * request pays one round trip, not two.
 *
 * The agent TOUCH is skipped when there is no agent session, or when this
 * request already reset its TTL (every agent operation does, and so does an
 * earlier save of this request, e.g. koa-session's at regenerate) or must not
 * touch it (a user mismatch). `requestSession` is the request's session
 * object, which carries that mark.
 */
export async function withAgentRefresh<T>(
  cookieSessionCommand: () => Promise<T>,
  agents: AgentStore,
  link: AgentLink | undefined,
  requestSession: object | undefined,
): Promise<T> {
  const touchAgent = link !== undefined && !agentTtlHandled(requestSession);
  const agentTouch = touchAgent ? agents.session(link.id).touch() : undefined;
  const [result] = await Promise.all([cookieSessionCommand(), agentTouch]);
  if (touchAgent && requestSession) markAgentTtlHandled(requestSession);
  return result;
}
