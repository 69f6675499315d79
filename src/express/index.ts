/**
 * agent-session for Express: `app.use(agentSession({ redis, secret }))` gives
 * every request `req.agent`, backed by a cookie session in the same Redis.
 */
import type { RequestAgent } from '../middleware/request-agent.js';

export { agentSession, agentSessionErrorHandler, type ExpressAgentSessionOptions } from './middleware.js';
export type { RequestAgent, RequestAgentSnapshot } from '../middleware/request-agent.js';
export { httpErrorResponse, type AgentSessionHttpError, type HttpErrorResponse } from '../middleware/http-errors.js';
export type { AgentSessionEvent, SessionCookieOptions } from '../middleware/options.js';
export type { SecureCookiePolicy } from '../middleware/secure-cookie.js';

declare global {
  namespace Express {
    interface Request {
      /** The request's agent session (agent-session). Created lazily: reads are empty until the first write. */
      agent: RequestAgent;
    }
  }
}
