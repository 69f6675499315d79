import {
  ArchiveBacklogFullError,
  ArchiveUnavailableError,
  IdempotencyConflictError,
  InvalidInputError,
  AgentPayloadTooLargeError,
  SessionUserMismatchError,
  StoreUnavailableError,
} from '../errors.js';

/** The errors the middleware answers itself; every other error goes to the app. */
export type AgentSessionHttpError =
  | StoreUnavailableError
  | SessionUserMismatchError
  | ArchiveBacklogFullError
  | ArchiveUnavailableError
  | IdempotencyConflictError
  | InvalidInputError
  | AgentPayloadTooLargeError;

export function isAgentSessionHttpError(error: unknown): error is AgentSessionHttpError {
  return (
    error instanceof StoreUnavailableError ||
    error instanceof SessionUserMismatchError ||
    error instanceof ArchiveBacklogFullError ||
    error instanceof ArchiveUnavailableError ||
    error instanceof IdempotencyConflictError ||
    error instanceof InvalidInputError ||
    error instanceof AgentPayloadTooLargeError
  );
}

/** The machine-readable code in the body of each answer. */
export type HttpErrorCode =
  | 'session_store_unavailable'
  | 'session_user_mismatch'
  | 'archive_backlog_full'
  | 'archive_unavailable'
  | 'idempotency_key_conflict'
  | 'input_invalid'
  | 'payload_too_large';

export interface HttpErrorResponse {
  status: 503 | 403 | 409 | 400 | 413;
  headers: Record<string, string>;
  body: { error: HttpErrorCode };
}

/**
 * The default answers:
 * - Redis unavailable: 503 with `Retry-After`, so clients and load balancers
 *   retry shortly instead of treating the session as lost;
 * - the agent session belongs to another user: 403, nothing read or written;
 * - the session's archive backlog is full (the archiver is down or behind):
 *   503 with `Retry-After`, since the write succeeds again once the archiver
 *   has drained it; nothing was written;
 * - the archive (PostgreSQL) did not answer a resume, history or listing in
 *   time: 503 with `Retry-After`, as for Redis;
 * - an idempotency key repeated with another turn or tool call: 409, nothing
 *   written (the client reused a message id for a different message);
 * - a value the library refuses (`InvalidInputError`: a user id over
 *   `maxUserIdBytes`, an unknown role...): 400; one over its size limit
 *   (`AgentPayloadTooLargeError`: a turn over `limits.turnContentBytes`, a cookie
 *   session over `maxSessionBytes`...): 413. Nothing was written.
 * The bodies are stable machine-readable codes; messages stay in the logs.
 */
export function httpErrorResponse(error: AgentSessionHttpError, retryAfterSeconds: number): HttpErrorResponse {
  if (error instanceof SessionUserMismatchError) return { status: 403, headers: {}, body: { error: 'session_user_mismatch' } };
  if (error instanceof IdempotencyConflictError) return { status: 409, headers: {}, body: { error: 'idempotency_key_conflict' } };
  if (error instanceof InvalidInputError) return { status: 400, headers: {}, body: { error: 'input_invalid' } };
  if (error instanceof AgentPayloadTooLargeError) return { status: 413, headers: {}, body: { error: 'payload_too_large' } };
  const retry = { 'Retry-After': String(retryAfterSeconds) };
  if (error instanceof ArchiveBacklogFullError) return { status: 503, headers: retry, body: { error: 'archive_backlog_full' } };
  if (error instanceof ArchiveUnavailableError) return { status: 503, headers: retry, body: { error: 'archive_unavailable' } };
  return { status: 503, headers: retry, body: { error: 'session_store_unavailable' } };
}
