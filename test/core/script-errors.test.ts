import { describe, expect, it } from 'vitest';
import {
  ArchiveBacklogFullError,
  AgentSessionError,
  CorruptStateError,
  IdempotencyConflictError,
  LeaseLostError,
  SessionExistsError,
  SessionNotFoundError,
  SessionUserMismatchError,
  StoreUnavailableError,
  ToolCallNotFoundError,
  ToolCallStateError,
} from 'agent-session';
import { SCRIPT_ERROR_CODES, scriptFailure, toAgentSessionError, type ScriptErrorCode } from '../../src/core/script-errors.js';
import { luaErrorPrelude } from '../../src/redis/lua-errors.js';
import { defineScript, runScript } from '../../src/redis/script.js';
import { clientForThisFile, testStore } from '../harness/store.js';

/**
 * The one error vocabulary: each code a script can `fail()` with, sent
 * through a real Redis and turned back into its typed error.
 */

const client = clientForThisFile();
const CONTEXT = { sessionId: 'sess-1', sessionKeys: 'p:{sess-1}:*', toolCallId: 'call-1' };

/** A script that fails with E[ARGV[1]] (and ARGV[2] as detail, if given), as the loader assembles scripts. */
const FAIL = defineScript('test:fail', `${luaErrorPrelude(SCRIPT_ERROR_CODES)}\nreturn fail(E[ARGV[1]], ARGV[2])`, {
  file: 'fail-0',
  numberOfKeys: 0,
});

/** The error a script's reply raises in the client. */
async function replyOf(script: ReturnType<typeof defineScript>, args: string[], keys: string[] = []): Promise<Error> {
  const error = await runScript(client, script, keys, args, 2_000).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error(`expected the script to fail, it answered ${String(error)}`);
  return error;
}

/** Per code: the detail the script sends, and the error it must become. */
const EXPECTED: Record<ScriptErrorCode, { detail?: string; check(error: unknown, reply: Error): void }> = {
  BACKLOG_FULL: {
    detail: '10000',
    check: (error) => {
      expect(error).toBeInstanceOf(ArchiveBacklogFullError);
      expect(error).toMatchObject({ code: 'ARCHIVE_BACKLOG_FULL', sessionId: 'sess-1', limit: 10_000 });
    },
  },
  IDEMPOTENCY_CONFLICT: {
    check: (error) => {
      expect(error).toBeInstanceOf(IdempotencyConflictError);
      expect(error).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', sessionId: 'sess-1' });
    },
  },
  NO_SESSION: {
    check: (error) => {
      expect(error).toBeInstanceOf(SessionNotFoundError);
      expect(error).toMatchObject({ code: 'SESSION_NOT_FOUND', sessionId: 'sess-1' });
    },
  },
  USER_MISMATCH: {
    check: (error) => {
      expect(error).toBeInstanceOf(SessionUserMismatchError);
      expect(error).toMatchObject({ code: 'SESSION_USER_MISMATCH', sessionId: 'sess-1' });
    },
  },
  SESSION_EXISTS: {
    check: (error) => {
      expect(error).toBeInstanceOf(SessionExistsError);
      expect(error).toMatchObject({ code: 'SESSION_EXISTS', sessionId: 'sess-1' });
    },
  },
  LEASE_LOST: {
    check: (error) => {
      expect(error).toBeInstanceOf(LeaseLostError);
      expect(error).toMatchObject({ code: 'LEASE_LOST', sessionId: 'sess-1' });
    },
  },
  NO_TOOL_CALL: {
    check: (error) => {
      expect(error).toBeInstanceOf(ToolCallNotFoundError);
      expect(error).toMatchObject({ code: 'TOOL_CALL_NOT_FOUND', callId: 'call-1' });
    },
  },
  TOOL_CALL_EXISTS: {
    check: (error) => {
      expect(error).toBeInstanceOf(ToolCallStateError);
      expect(error).toMatchObject({ code: 'TOOL_CALL_STATE', callId: 'call-1', message: 'Tool call "call-1": a call with this id was already started.' });
    },
  },
  TOOL_CALL_NOT_PENDING: {
    detail: 'completed',
    check: (error) => {
      expect(error).toBeInstanceOf(ToolCallStateError);
      expect(error).toMatchObject({
        code: 'TOOL_CALL_STATE',
        callId: 'call-1',
        message: 'Tool call "call-1": it is already completed; only a pending call can finish.',
      });
    },
  },
  CORRUPT: {
    detail: 'p:{sess-1}:turns',
    check: (error, reply) => {
      expect(error).toBeInstanceOf(CorruptStateError);
      expect(error).toMatchObject({ code: 'STATE_CORRUPT', key: 'p:{sess-1}:turns' });
      // No cause: a reply of Redis's may quote a stored value.
      expect((error as Error).cause).toBeUndefined();
      void reply;
      expect((error as Error).message).toContain('"p:{sess-1}:turns"');
    },
  },
  NO_GROUP: {
    detail: "No such key 'q' or consumer group 'g'",
    check: (error, reply) => {
      // The worker's signal to recreate its group, not a session's error: passed on as it is.
      expect(error).toBe(reply);
      expect(error).not.toBeInstanceOf(AgentSessionError);
    },
  },
  DEADLINE: {
    check: (error, reply) => {
      // Ran after its caller gave up (Redis was hung): nothing written, the store was unavailable.
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', cause: reply });
    },
  },
};

describe('script error codes', () => {
  it('every code in the list has an expected mapping here, and no other', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...SCRIPT_ERROR_CODES].sort());
  });

  it.each(SCRIPT_ERROR_CODES.map((code) => [code] as const))('%s travels through Redis and maps to its typed error', async (code) => {
    const { detail, check } = EXPECTED[code];
    const reply = await replyOf(FAIL, detail === undefined ? [code] : [code, detail]);
    expect(scriptFailure(reply)).toEqual({ code, detail: detail ?? '' });
    check(toAgentSessionError(reply, CONTEXT), reply);
  });

  it('a misspelt code fails loudly in Lua instead of replying nil', async () => {
    const reply = await replyOf(FAIL, ['NO_SESION']);
    expect(reply.message).toMatch(/unknown script error code NO_SESION/);
    expect(scriptFailure(reply)).toBeUndefined();
  });

  it("Redis's own WRONGTYPE inside a script is a corrupt session, named by its key pattern", async () => {
    const key = `script-errors:${process.pid}:${Date.now()}`;
    await client.set(key, 'a string, not a list');
    const reply = await replyOf(defineScript('test:push', "return redis.call('RPUSH', KEYS[1], 'x')", { file: 'push-1', numberOfKeys: 1 }), [], [key]);
    await client.del(key);
    const error = toAgentSessionError(reply, CONTEXT);
    expect(error).toBeInstanceOf(CorruptStateError);
    expect(error).toMatchObject({ key: 'p:{sess-1}:*' });
    expect((error as Error).cause).toBeUndefined();
  });

  it("HINCRBY's 'hash value is not an integer' inside a script is a corrupt session too", async () => {
    const key = `script-errors:${process.pid}:${Date.now()}:incr`;
    await client.hSet(key, 'n', 'many');
    const reply = await replyOf(defineScript('test:incr', "return redis.call('HINCRBY', KEYS[1], 'n', 1)", { file: 'incr-1', numberOfKeys: 1 }), [], [key]);
    expect(reply.message).toMatch(/hash value is not an integer/);
    await client.del(key);
    const error = toAgentSessionError(reply, CONTEXT);
    expect(error).toBeInstanceOf(CorruptStateError);
    expect(error).toMatchObject({ key: 'p:{sess-1}:*' });
  });

  it('any other error is passed on unchanged: an unknown first word, a Lua error, a non-Error', async () => {
    const notOurs = await replyOf(defineScript('test:other', "return redis.error_reply('NOT_OURS detail')", { file: 'other-0', numberOfKeys: 0 }), []);
    expect(toAgentSessionError(notOurs, CONTEXT)).toBe(notOurs);
    const luaError = await replyOf(defineScript('test:lua', "return nil + 1", { file: 'lua-0', numberOfKeys: 0 }), []);
    expect(toAgentSessionError(luaError, CONTEXT)).toBe(luaError);
    expect(toAgentSessionError('a string', CONTEXT)).toBe('a string');
  });
});

describe('the codes from the scripts themselves', () => {
  it('a time range over a turn agent-session did not write raises CorruptStateError naming the turns key', async () => {
    const session = await testStore(client).create();
    await session.appendTurn({ role: 'user', content: 'hello' });
    await client.rPush(session.keys.turns, 'not a turn');
    const error = await session.turns({ fromTime: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CorruptStateError);
    expect(error).toMatchObject({ key: session.keys.turns });
  });
});
