import { AgentSessionError, SessionNotFoundError, ToolCallNotFoundError } from 'agent-session';
import { RequestRefused } from './requests.js';

/**
 * How the example servers answer an error that no route answered: JSON with
 * a stable code, never the error's message, stack or a path (those go to
 * the server's log). The middleware answers the library's own HTTP errors
 * (503, 403, 400, 413, 409) before this runs; they are mapped here the same
 * way for errors thrown outside it.
 */
export interface ErrorAnswer {
  status: number;
  body: { error: string };
  /** Close the connection after answering: the request body was not read to its end. */
  close?: true;
}

export function errorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof RequestRefused) return { status: error.status, body: { error: error.code }, ...(error.status === 413 ? { close: true as const } : {}) };
  const library = error instanceof AgentSessionError ? LIBRARY_ANSWERS[error.code] : undefined;
  if (library) return library;
  // The conversation was deleted while this request used it (a logout in another tab): nothing left to answer about.
  if (error instanceof ToolCallNotFoundError || error instanceof SessionNotFoundError) return { status: 409, body: { error: 'conversation_ended' } };
  const status = httpStatusOf(error);
  if (status === 413) return { status, body: { error: 'payload_too_large' }, close: true };
  if (status === 400 && typeOf(error) === 'entity.parse.failed') return { status, body: { error: 'invalid_json' } };
  if (status !== undefined && status >= 400 && status < 500) return { status, body: { error: 'bad_request' } };
  return { status: 500, body: { error: 'internal_error' } };
}

/** The library's errors that a client caused or can retry, as the middleware answers them (the others are 500s). */
const LIBRARY_ANSWERS: Partial<Record<AgentSessionError['code'], ErrorAnswer>> = {
  INPUT_INVALID: { status: 400, body: { error: 'input_invalid' } },
  PAYLOAD_TOO_LARGE: { status: 413, body: { error: 'payload_too_large' } },
  SESSION_USER_MISMATCH: { status: 403, body: { error: 'session_user_mismatch' } },
  IDEMPOTENCY_CONFLICT: { status: 409, body: { error: 'idempotency_key_conflict' } },
  STORE_UNAVAILABLE: { status: 503, body: { error: 'session_store_unavailable' } },
  ARCHIVE_UNAVAILABLE: { status: 503, body: { error: 'archive_unavailable' } },
  ARCHIVE_BACKLOG_FULL: { status: 503, body: { error: 'archive_backlog_full' } },
};

/** One line for the server's log: what failed, without request data. */
export function logLine(error: unknown, method: string, path: string): string {
  const what = error instanceof Error ? `${error.name}${'code' in error ? ` ${String(error.code)}` : ''}: ${error.message}` : String(error);
  return `[example] ${method} ${path} failed: ${what}`;
}

/** The status a body parser or an HTTP error carries (body-parser's `status`, Koa's `status`). */
function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown; statusCode?: unknown } | null)?.status ?? (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && Number.isInteger(status) ? status : undefined;
}

function typeOf(error: unknown): unknown {
  return (error as { type?: unknown } | null)?.type;
}
