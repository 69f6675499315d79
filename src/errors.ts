/**
 * Every error agent-session throws on purpose is an `AgentSessionError` with a
 * stable `code`, so callers can branch on `err.code` (or `instanceof`) instead
 * of parsing messages. Messages say how to fix the problem and never contain
 * secrets, passwords or stored content.
 */
export type AgentSessionErrorCode =
  | 'CONFIG_INVALID'
  | 'SESSION_ID_INVALID'
  | 'PAYLOAD_TOO_LARGE'
  | 'INPUT_INVALID'
  | 'STATE_CORRUPT'
  | 'STORE_UNAVAILABLE'
  | 'SESSION_NOT_FOUND'
  | 'SESSION_EXISTS'
  | 'SESSION_USER_MISMATCH'
  | 'TOOL_CALL_NOT_FOUND'
  | 'TOOL_CALL_STATE'
  | 'LEASE_LOST'
  | 'ARCHIVE_BACKLOG_FULL'
  | 'ARCHIVE_UNAVAILABLE'
  | 'ARCHIVE_QUERY_FAILED'
  | 'USER_REQUIRED'
  | 'IDEMPOTENCY_CONFLICT'
  | 'REDIS_PERMISSION_DENIED';

/**
 * The HTTP status each code means. Express's final handler and Koa's default
 * `ctx.onerror` both read `status` / `statusCode`, so an app that does not
 * answer these errors itself still sends the right status (503 when Redis is
 * down, 413 for an oversized message) rather than a 500.
 */
export const HTTP_STATUS_BY_CODE = {
  CONFIG_INVALID: 500,
  SESSION_ID_INVALID: 400,
  PAYLOAD_TOO_LARGE: 413,
  INPUT_INVALID: 400,
  STATE_CORRUPT: 500,
  STORE_UNAVAILABLE: 503,
  SESSION_NOT_FOUND: 404,
  SESSION_EXISTS: 409,
  SESSION_USER_MISMATCH: 403,
  TOOL_CALL_NOT_FOUND: 404,
  TOOL_CALL_STATE: 409,
  LEASE_LOST: 409,
  ARCHIVE_BACKLOG_FULL: 503,
  ARCHIVE_UNAVAILABLE: 503,
  ARCHIVE_QUERY_FAILED: 500,
  USER_REQUIRED: 401,
  IDEMPOTENCY_CONFLICT: 409,
  REDIS_PERMISSION_DENIED: 500,
} as const satisfies Record<AgentSessionErrorCode, number>;

export class AgentSessionError extends Error {
  readonly code: AgentSessionErrorCode;
  /** The HTTP status this error means (see the README's table); read by Express and Koa's default error handling. */
  readonly status: number;
  /** The same as `status`, under the name some handlers (Express's, http-errors') read. */
  readonly statusCode: number;
  /**
   * Whether the message may be shown to the client: true for 4xx only, as
   * Koa and http-errors use it. A 4xx message describes the request's own
   * mistake; a 5xx message (a Redis key, a SQLSTATE) is for operators.
   */
  readonly expose: boolean;

  constructor(code: AgentSessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = HTTP_STATUS_BY_CODE[code];
    this.statusCode = this.status;
    this.expose = this.status < 500;
  }
}

/** Options rejected at start-up. The message names the option and the fix. */
export class ConfigError extends AgentSessionError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

/** A supplied agent session id is not safe to put into a Redis key. */
export class InvalidSessionIdError extends AgentSessionError {
  constructor(message: string) {
    super('SESSION_ID_INVALID', message);
  }
}

/**
 * A value is larger than the configured limit; nothing was written (413).
 * Named apart from body-parser's `PayloadTooLargeError` (Express's own
 * request-body limit), which an app may import beside it.
 */
export class AgentPayloadTooLargeError extends AgentSessionError {
  readonly limitBytes: number;
  readonly actualBytes: number;

  constructor(what: string, actualBytes: number, limitBytes: number, option: string) {
    super(
      'PAYLOAD_TOO_LARGE',
      `${what} is ${actualBytes} bytes, over the limit of ${limitBytes} bytes; nothing was written. ` +
        `Send less, or raise \`${option}\` in the agent-session options.`,
    );
    this.limitBytes = limitBytes;
    this.actualBytes = actualBytes;
  }
}

/** A value passed to the API has the wrong shape (unknown role, empty tool name, ...). */
export class InvalidInputError extends AgentSessionError {
  constructor(message: string) {
    super('INPUT_INVALID', message);
  }
}

/**
 * A stored value could not be parsed. Names the key so an operator can
 * inspect it. Takes no `cause` on purpose: what a parser or Redis says about
 * a value (a JSON SyntaxError, a reply) may quote it, and this error goes to
 * logs; `detail` is always agent-session's own wording, never stored text.
 */
export class CorruptStateError extends AgentSessionError {
  readonly key: string;

  constructor(key: string, detail: string) {
    super(
      'STATE_CORRUPT',
      `Stored agent state at Redis key "${key}" is corrupt (${detail}). ` +
        `Inspect or delete that key (deleting the agent session removes all of its keys); agent-session will not overwrite it silently.`,
    );
    this.key = key;
  }
}

/**
 * Redis could not be reached within the fail-fast bound. The middleware turns
 * this into `503 Service Unavailable` with `Retry-After`.
 */
export class StoreUnavailableError extends AgentSessionError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      'STORE_UNAVAILABLE',
      `The session store (Redis) is unavailable: ${detail}. ` +
        `The client keeps reconnecting in the background; retry the request shortly.`,
      options,
    );
  }
}

/** The agent session does not exist (never created, deleted, or expired). */
export class SessionNotFoundError extends AgentSessionError {
  readonly sessionId: string;

  constructor(sessionId: string) {
    super(
      'SESSION_NOT_FOUND',
      `Agent session "${sessionId}" does not exist (never created, deleted, or expired after its idle timeout). ` +
        `Create it with store.create() first.`,
    );
    this.sessionId = sessionId;
  }
}

/** The agent session belongs to another user; nothing was read or written. */
export class SessionUserMismatchError extends AgentSessionError {
  readonly sessionId: string;

  constructor(sessionId: string) {
    super(
      'SESSION_USER_MISMATCH',
      `Agent session "${sessionId}" is bound to a different user than the one making this request; ` +
        `nothing was read or written. Log the user in again to start a session of their own.`,
    );
    this.sessionId = sessionId;
  }
}

export class ToolCallNotFoundError extends AgentSessionError {
  readonly callId: string;

  constructor(callId: string) {
    super('TOOL_CALL_NOT_FOUND', `Tool call "${callId}" does not exist in this agent session; start it with startToolCall() first.`);
    this.callId = callId;
  }
}

/** A tool call was asked to move to a state it cannot reach (finishing it twice, for example). */
export class ToolCallStateError extends AgentSessionError {
  readonly callId: string;

  constructor(callId: string, detail: string) {
    super('TOOL_CALL_STATE', `Tool call "${callId}": ${detail}`);
    this.callId = callId;
  }
}

/** An agent session with the supplied id already exists; nothing was changed. */
export class SessionExistsError extends AgentSessionError {
  readonly sessionId: string;

  constructor(sessionId: string) {
    super('SESSION_EXISTS', `Agent session "${sessionId}" already exists; open it with store.session(id) instead of creating it.`);
    this.sessionId = sessionId;
  }
}

/**
 * An observer run's lease (fencing token) is no longer current, because it
 * expired and another worker took the session over; the run's write was refused.
 */
export class LeaseLostError extends AgentSessionError {
  readonly sessionId: string;

  constructor(sessionId: string) {
    super('LEASE_LOST', `The observer lease on agent session "${sessionId}" was lost (it expired and another run took over); this run's notes were not written. Raise the observer's leaseMs if analyses often outlive it.`);
    this.sessionId = sessionId;
  }
}

/**
 * The session's archive backlog holds as many changes as it may
 * (`archive.maxBacklog`) because the archiver has not drained it into
 * PostgreSQL: it is down, or far behind. Nothing was written; the middleware
 * answers 503, as for an unavailable store, since the write succeeds again
 * once the archiver catches up.
 */
export class ArchiveBacklogFullError extends AgentSessionError {
  readonly sessionId: string;
  readonly limit: number;

  constructor(sessionId: string, limit: number) {
    super(
      'ARCHIVE_BACKLOG_FULL',
      `Agent session "${sessionId}" has ${limit} changes waiting to be archived, the most its backlog may hold; nothing was written. ` +
        'Start the archiver (createArchiver() from agent-session/archive) or check why it is not keeping up; raise `archive.maxBacklog` to buffer more.',
    );
    this.sessionId = sessionId;
    this.limit = limit;
  }
}

/**
 * The conversation archive (PostgreSQL, `agent-session/archive`) did not
 * answer within its bound: it is down, unreachable, overloaded, or refused the
 * connection. Reads (resume, history, listing) fail fast with this; the
 * middleware answers it with `503 Service Unavailable`.
 *
 * It never has a `cause`: node-postgres error messages can repeat the
 * connection target or a statement's values. `reason` holds only what is safe
 * to log: a Node error code (`ECONNREFUSED`), a SQLSTATE (`57P01`), or a fixed
 * phrase of ours (`no answer`).
 */
export class ArchiveUnavailableError extends AgentSessionError {
  readonly timeoutMs: number;
  readonly reason: string;

  constructor(timeoutMs: number, reason: string) {
    super(
      'ARCHIVE_UNAVAILABLE',
      `The conversation archive (PostgreSQL) could not be reached within ${timeoutMs} ms (${reason}). ` +
        `The pool keeps reconnecting on demand; retry shortly.`,
    );
    this.timeoutMs = timeoutMs;
    this.reason = reason;
  }
}

/**
 * PostgreSQL answered an archive query with an error that retrying will not
 * fix: tables missing (migrations not applied), no privilege, a value it could
 * not store. The message names the SQLSTATE and the fix; like
 * `ArchiveUnavailableError` it has no `cause`, so no statement value can leak
 * through it into logs.
 */
export class ArchiveQueryError extends AgentSessionError {
  /** The five-character SQLSTATE PostgreSQL answered with, when it answered with one. */
  readonly sqlState: string | undefined;

  constructor(detail: string, sqlState?: string) {
    super('ARCHIVE_QUERY_FAILED', `An archive query failed: ${detail}`);
    this.sqlState = sqlState;
  }
}

/**
 * A call that acts for the request's signed-in user (listing their
 * conversations) came from a request without one: `getUserId` returned null
 * or undefined. Nothing was read. Apps answer it with 401 (the example
 * servers do); the middleware leaves it to the app, whose login rules it does
 * not know.
 */
export class UserRequiredError extends AgentSessionError {
  constructor(call: string) {
    super(
      'USER_REQUIRED',
      `${call} acts for the request's signed-in user, and this request has none (getUserId returned null or undefined); nothing was read. ` +
        'Answer 401 before calling it when nobody is logged in, or check that getUserId finds the user of a logged-in request.',
    );
  }
}

/**
 * An idempotency key was used again, in the same session and within the time
 * it is kept, for a different turn or tool call. The first write stands;
 * nothing was written. The middleware answers 409.
 */
export class IdempotencyConflictError extends AgentSessionError {
  readonly sessionId: string;

  constructor(sessionId: string) {
    super(
      'IDEMPOTENCY_CONFLICT',
      `Agent session "${sessionId}": this idempotency key was already used for a different turn or tool call; nothing was written. ` +
        `Send a new key (a fresh message id) for a new message, and repeat a key only to retry the very same one.`,
    );
    this.sessionId = sessionId;
  }
}

/**
 * The Redis user agent-session connects as may not run a command it needs,
 * or not on one of its keys (the ACL key pattern does not cover the key
 * prefix). Nothing about the request is wrong: the operator's ACL is, so the
 * middleware leaves it to the app, which answers 500. `command` is the
 * command Redis named (`'xadd'`, `'xgroup|create'`); Redis 7.0 does not name
 * a command denied inside a script, and then the message names the script.
 */
export class RedisPermissionError extends AgentSessionError {
  readonly command: string | undefined;

  constructor(denied: string, command?: string) {
    super(
      'REDIS_PERMISSION_DENIED',
      `The Redis user agent-session connects as is not allowed ${denied}. ` +
        'Give it the ACL line of this part (app, observer worker or archiver) from the "ACL" section of the agent-session README, with your key prefix in its key pattern.',
    );
    this.command = command;
  }
}
