import type { SessionStore } from '../core/agent-store.js';
import { RequestAgent, type CookieSessionAccess } from './request-agent.js';
import { attachRequestState, RequestState, type LoadRefresh } from './request-state.js';

/**
 * What both adapters do once the cookie session is loaded, before the app's
 * routes run: build the request's agent object, and leave the request's
 * state (with what the load already refreshed, `load`) where the store's
 * end-of-request refresh will look for it. No I/O,
 * and `getUserId` is not called yet.
 *
 * No request is refused here: a cookie session that records another user's
 * agent session (a logout that regenerated the session, an expired token)
 * must still reach /login and /logout. The binding is enforced where the
 * agent state is used: `RequestAgent` refuses the call (403), and the
 * refresh does not touch the keys.
 */
export function startAgentRequest(agents: SessionStore, cookieSession: CookieSessionAccess, user: () => string | null, load?: LoadRefresh): RequestAgent {
  const state = new RequestState(user, load);
  const data = cookieSession.data();
  if (data) attachRequestState(data, state);
  return new RequestAgent(agents, cookieSession, state);
}
