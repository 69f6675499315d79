import { SessionUserMismatchError, StoreUnavailableError } from '../errors.js';

/** The errors the middleware answers itself; every other error goes to the app. */
export type AgentSessionHttpError = StoreUnavailableError | SessionUserMismatchError;

export function isAgentSessionHttpError(error: unknown): error is AgentSessionHttpError {
  return error instanceof StoreUnavailableError || error instanceof SessionUserMismatchError;
}

export interface HttpErrorResponse {
  status: 503 | 403;
  headers: Record<string, string>;
  body: { error: 'session_store_unavailable' | 'session_user_mismatch' };
}

/**
 * The default answers:
 * - Redis unavailable: 503 with `Retry-After`, so clients and load balancers
 *   retry shortly instead of treating the session as lost;
 * - the agent session belongs to another user: 403, nothing read or written.
 * The bodies are stable machine-readable codes; messages stay in the logs.
 */
export function httpErrorResponse(error: AgentSessionHttpError, retryAfterSeconds: number): HttpErrorResponse {
  if (error instanceof StoreUnavailableError) {
    return { status: 503, headers: { 'Retry-After': String(retryAfterSeconds) }, body: { error: 'session_store_unavailable' } };
  }
  return { status: 403, headers: {}, body: { error: 'session_user_mismatch' } };
}
