/**
 * agent-session for Koa: `app.use(agentSession(app, { redis }))` gives every
 * request `ctx.agent`, backed by a koa-session cookie session in the same Redis.
 */
import type { RequestAgent } from '../request/request-agent.js';

export { agentSession, type KoaAgentSessionOptions } from './middleware.js';
export type { RequestAgent, RequestAgentSnapshot, ResumedConversation } from '../request/request-agent.js';
export type { ConversationList, ConversationPage, ConversationSummary, HistoryQuery } from '../core/cold-tier.js';
export { httpErrorResponse, type AgentSessionHttpError, type HttpErrorCode, type HttpErrorResponse } from '../request/http-errors.js';
export type { AgentSessionEvent } from '../request/events.js';
export { agentEvents } from './events.js';
export type { AgentEventsOptions } from '../request/event-stream.js';
export type { SessionCookieOptions } from '../request/options.js';
export type { SecureCookiePolicy } from '../request/secure-cookie.js';

declare module 'koa' {
  interface DefaultContext {
    /** The request's agent session (agent-session). Created lazily: reads are empty until the first write. */
    agent: RequestAgent;
  }
}
