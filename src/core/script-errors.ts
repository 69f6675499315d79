import {
  ArchiveBacklogFullError,
  CorruptStateError,
  IdempotencyConflictError,
  LeaseLostError,
  SessionExistsError,
  SessionNotFoundError,
  SessionUserMismatchError,
  StoreUnavailableError,
  ToolCallNotFoundError,
  ToolCallStateError,
} from '../errors.js';
import { parseScriptFailure, type ScriptFailure } from '../redis/lua-errors.js';

/**
 * The one list of errors agent-session's Lua scripts return, shared by Lua
 * and TypeScript. The loader splices it into every script as the table `E`
 * (scripts write `return fail(E.NO_SESSION)`), and `toAgentSessionError`
 * below turns the reply back into the typed error of errors.ts. No reply is
 * matched by its wording anywhere else.
 *
 * The list lives here, in the core, because its words are the session's; the
 * Redis layer under it only knows the wire format (redis/lua-errors.ts) and
 * is handed the list. The observer, above the core, takes it from here.
 *
 *   NO_SESSION             the session does not exist
 *   USER_MISMATCH          the session is bound to another user than the caller
 *   SESSION_EXISTS         create: the session is already there
 *   LEASE_LOST             an observer write whose run no longer holds the lease
 *   NO_TOOL_CALL           no tool call with that id
 *   TOOL_CALL_EXISTS       startToolCall: a call with that id was already started
 *   TOOL_CALL_NOT_PENDING  finishing a call that is not pending; detail: its status
 *   CORRUPT                a stored value agent-session did not write; detail: the key
 *   BACKLOG_FULL           the session's archive backlog is full (the archiver is down
 *                          or behind); detail: its limit. Nothing was written.
 *   IDEMPOTENCY_CONFLICT   appendTurn / startToolCall: the idempotency key was used for
 *                          another payload in this session. Nothing was written.
 *   NO_GROUP               an observer queue's stream or consumer group is gone
 *                          (FLUSHDB); the worker recreates it. Not a session error.
 *   DEADLINE               the script ran after its call's deadline (Redis was hung,
 *                          the caller had given up); raised by the loader's prelude
 *                          (redis/lua-deadline.ts), not by a script body. Nothing was
 *                          written: StoreUnavailableError.
 */
export const SCRIPT_ERROR_CODES = [
  'NO_SESSION',
  'USER_MISMATCH',
  'SESSION_EXISTS',
  'LEASE_LOST',
  'NO_TOOL_CALL',
  'TOOL_CALL_EXISTS',
  'TOOL_CALL_NOT_PENDING',
  'CORRUPT',
  'BACKLOG_FULL',
  'NO_GROUP',
  'IDEMPOTENCY_CONFLICT',
  'DEADLINE',
] as const;

export type ScriptErrorCode = (typeof SCRIPT_ERROR_CODES)[number];

/** The codes by name, as Lua sees them: `SCRIPT_ERRORS.NO_SESSION` here is `E.NO_SESSION` there. */
export const SCRIPT_ERRORS = Object.fromEntries(SCRIPT_ERROR_CODES.map((code) => [code, code])) as { readonly [C in ScriptErrorCode]: C };

/** A script's `fail()` reply, or undefined for any other error. */
export function scriptFailure(error: unknown): ScriptFailure<ScriptErrorCode> | undefined {
  return parseScriptFailure(error, SCRIPT_ERROR_CODES);
}

/** What the typed errors name, which the reply itself does not carry. */
export interface ScriptErrorContext {
  sessionId: string;
  /** The session's keys as a pattern (`<prefix>{<id>}:*`), for a corrupt key Redis does not name. */
  sessionKeys: string;
  /** The tool call the operation was about, if any. */
  toolCallId?: string;
}

const FOREIGN_VALUE = 'a key holds a value agent-session did not write';

/**
 * Redis's own errors that mean a stored value could not be computed with:
 * a key of another type (WRONGTYPE), a counter that is not a number
 * (HINCRBY's "hash value is not an integer", "value is not an integer or out
 * of range", "not a valid float"). The scripts check their keys before they
 * write (lua/includes/check-keys.lua), so these are a second line: a check
 * that misses a case still reaches the caller typed. A Lua runtime error
 * ("user_script:<line>: ...") is not among them: with those checks in place
 * it is a defect of the script, not of the data, and is passed on.
 */
const CORRUPT_VALUE_REPLY = /\bWRONGTYPE\b|\bis not an integer\b|\bnot a valid float\b/;

/**
 * The typed error for a script's error reply; Redis's own errors about a
 * stored value (above) are a corrupt session too. Anything else, NO_GROUP
 * included, is returned as it is. A CorruptStateError carries no cause:
 * Redis's reply may quote what it met.
 */
export function toAgentSessionError(error: unknown, context: ScriptErrorContext): unknown {
  const failure = scriptFailure(error);
  if (!failure) {
    if (error instanceof Error && CORRUPT_VALUE_REPLY.test(error.message)) {
      return new CorruptStateError(context.sessionKeys, FOREIGN_VALUE);
    }
    return error;
  }
  const { sessionId, toolCallId = '' } = context;
  switch (failure.code) {
    case 'NO_SESSION':
      return new SessionNotFoundError(sessionId);
    case 'USER_MISMATCH':
      return new SessionUserMismatchError(sessionId);
    case 'SESSION_EXISTS':
      return new SessionExistsError(sessionId);
    case 'LEASE_LOST':
      return new LeaseLostError(sessionId);
    case 'NO_TOOL_CALL':
      return new ToolCallNotFoundError(toolCallId);
    case 'TOOL_CALL_EXISTS':
      return new ToolCallStateError(toolCallId, 'a call with this id was already started.');
    case 'TOOL_CALL_NOT_PENDING':
      return new ToolCallStateError(toolCallId, `it is already ${failure.detail}; only a pending call can finish.`);
    case 'CORRUPT':
      return new CorruptStateError(failure.detail || context.sessionKeys, FOREIGN_VALUE);
    case 'BACKLOG_FULL':
      return new ArchiveBacklogFullError(sessionId, Number(failure.detail));
    case 'NO_GROUP':
      return error;
    case 'IDEMPOTENCY_CONFLICT':
      return new IdempotencyConflictError(sessionId);
    case 'DEADLINE':
      return new StoreUnavailableError('Redis ran the operation only after its deadline (it was hung or overloaded); nothing was written', {
        cause: error,
      });
    default: {
      // A code added to the list without a case here does not compile.
      const unhandled: never = failure.code;
      return unhandled;
    }
  }
}
