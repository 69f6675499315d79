/**
 * agent-session for Koa: `app.use(agentSession(app, { redis }))` gives every
 * request `ctx.agent`, backed by a koa-session cookie session in the same Redis.
 */
import type { RequestAgent } from '../middleware/request-agent.js';

export { agentSession, type KoaAgentSessionOptions } from './middleware.js';
export type { RequestAgent, RequestAgentSnapshot } from '../middleware/request-agent.js';
export { httpErrorResponse, type AgentSessionHttpError, type HttpErrorResponse } from '../middleware/http-errors.js';
export type { AgentSessionEvent, SessionCookieOptions } from '../middleware/options.js';
export type { SecureCookiePolicy } from '../middleware/secure-cookie.js';

declare module 'koa' {
  interface DefaultContext {
    /** The request's agent session (agent-session). Created lazily: reads are empty until the first write. */
    agent: RequestAgent;
  }
}
