import type { AgentStore } from '../core/agent-store.js';
import type { SessionUserMismatchError } from '../core/errors.js';
import { markAgentTtlHandled, readLink } from './agent-link.js';
import { RequestAgent, userMismatch, type CookieSessionAccess } from './request-agent.js';

export interface AgentRequest {
  agent: RequestAgent;
  /** Set when the request must be refused with 403 before it reaches the app's routes. */
  refusal?: SessionUserMismatchError;
}

/**
 * What both adapters do once the cookie session is loaded, before the app's
 * routes run: build the request's agent object (no I/O), and refuse up front
 * a request whose user is not the one the agent session is bound to. A
 * refused request leaves the agent state exactly as it was, TTL included.
 */
export function startAgentRequest(
  agents: AgentStore,
  cookieSession: CookieSessionAccess,
  user: () => string | null,
): AgentRequest {
  const agent = new RequestAgent(agents, cookieSession, user);
  const data = cookieSession.data();
  const refusal = userMismatch(readLink(data), user());
  if (!refusal) return { agent };
  if (data) markAgentTtlHandled(data);
  return { agent, refusal };
}
