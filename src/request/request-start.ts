import type { AgentStore } from '../core/agent-store.js';
import { markRequestUser } from './agent-link.js';
import { RequestAgent, type CookieSessionAccess } from './request-agent.js';

/**
 * What both adapters do once the cookie session is loaded, before the app's
 * routes run: build the request's agent object, and tell the store's
 * end-of-request refresh how to ask who the request's user is. No I/O, and
 * `getUserId` is not called yet.
 *
 * No request is refused here: a cookie session that records another user's
 * agent session (a logout that regenerated the session, an expired token)
 * must still reach /login and /logout. The binding is enforced where the
 * agent state is used: `RequestAgent` refuses the call (403), and the
 * refresh does not touch the keys.
 */
export function startAgentRequest(agents: AgentStore, cookieSession: CookieSessionAccess, user: () => string | null): RequestAgent {
  const data = cookieSession.data();
  if (data) markRequestUser(data, user);
  return new RequestAgent(agents, cookieSession, user);
}
