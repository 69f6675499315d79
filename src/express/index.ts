// Brings express-session's types into every program that imports this entry:
// `req.session`, and the `declare module 'express-session'` augmentation of
// SessionData that apps write, need them (a TypeScript app installs
// @types/express-session; see the README's Install).
// (`preserve` keeps the directive in the emitted .d.ts.)
/// <reference types="express-session" preserve="true" />
/**
 * agent-session for Express: `app.use(agentSession({ redis, secret }))` gives
 * every request `req.agent`, backed by a cookie session in the same Redis.
 */
import type { RequestAgent } from '../request/request-agent.js';

export { agentSession, agentSessionErrorHandler, type ExpressAgentSessionOptions } from './middleware.js';
export type { RequestAgent, RequestAgentSnapshot, ResumedConversation } from '../request/request-agent.js';
export type { ConversationList, ConversationPage, ConversationSummary, HistoryQuery } from '../core/cold-tier.js';
export { httpErrorResponse, type AgentSessionHttpError, type HttpErrorCode, type HttpErrorResponse } from '../request/http-errors.js';
export type { AgentSessionEvent } from '../request/events.js';
export { agentEvents } from './events.js';
export type { AgentEventsOptions } from '../request/event-stream.js';
export type { SessionCookieOptions } from '../request/options.js';
export type { SecureCookiePolicy } from '../request/secure-cookie.js';

declare global {
  namespace Express {
    interface Request {
      /** The request's agent session (agent-session). Created lazily: reads are empty until the first write. */
      agent: RequestAgent;
    }
  }
}
