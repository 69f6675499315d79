import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreUnavailableError } from '../errors.js';
import type { RedisCommandClient } from './client.js';
import { clientNow, toRedisTime } from './clock.js';
import { failFast } from './fail-fast.js';
import { instrumentation } from '../instrumentation.js';
import { DEADLINE_CODE } from './lua-deadline.js';
import { parseScriptFailure } from './lua-errors.js';
import { toPermissionError } from './permission.js';

export interface LuaScript {
  /** Shown in logs and command profiles, e.g. 'agent-session:append-turn'. */
  readonly name: string;
  /** The file it was loaded from, without '.lua' (e.g. 'appendTurn-4'). */
  readonly file: string;
  /** The text Redis runs, includes spliced in. */
  readonly source: string;
  readonly sha1: string;
  /** How many keys every call passes; undefined for a script that takes a variable number. */
  readonly numberOfKeys: number | undefined;
  /** Whether every call passes the call's deadline as an extra first argument (lua-deadline.ts). */
  readonly takesDeadline: boolean;
}

export function defineScript(
  name: string,
  source: string,
  shape: { file: string; numberOfKeys: number | undefined; takesDeadline?: boolean },
): LuaScript {
  return { name, source, sha1: createHash('sha1').update(source).digest('hex'), ...shape, takesDeadline: shape.takesDeadline ?? false };
}

/**
 * Runs a script by its SHA (one small command on the hot path), loading it
 * with EVAL only when the server does not know it yet (first use, a restart,
 * SCRIPT FLUSH, or a Cluster node that has not seen it). Bounded by the
 * fail-fast deadline like every other library call.
 *
 * A call with another number of keys than the script's file name declares is
 * a bug in agent-session: the script would read a missing KEYS[i] as nil, or
 * silently ignore one. It is refused before anything is sent.
 *
 * A script that takes a deadline (lua-deadline.ts) gets this call's: now plus
 * `deadlineMs`, in Redis time, so that it writes nothing if Redis only runs
 * it after we gave up. When the call fails because the connection broke
 * while it may already have been written (a dropped connection, not a
 * refusal to send), the error is held until that deadline has passed: from
 * then on the script can no longer run, so a `StoreUnavailableError` means
 * "not written, and never will be", except when the script ran before its
 * deadline and only its reply was lost.
 */
export function runScript(
  client: RedisCommandClient,
  script: LuaScript,
  keys: string[],
  args: Array<string | number>,
  deadlineMs: number,
): Promise<unknown> {
  if (instrumentation) {
    // Started before the call, so the latency includes building and encoding the command.
    const startedAt = performance.now();
    return measured(script.name, callScript(client, script, keys, args, deadlineMs), startedAt);
  }
  return callScript(client, script, keys, args, deadlineMs);
}

/** Reports the call's latency and outcome to agent-session/metrics (instrumentation.ts). */
function measured(name: string, call: Promise<unknown>, startedAt: number): Promise<unknown> {
  return call.then(
    (reply) => {
      instrumentation?.script(name, (performance.now() - startedAt) / 1000, undefined);
      return reply;
    },
    (error: unknown) => {
      instrumentation?.script(name, (performance.now() - startedAt) / 1000, error);
      throw error;
    },
  );
}

function callScript(
  client: RedisCommandClient,
  script: LuaScript,
  keys: string[],
  args: Array<string | number>,
  deadlineMs: number,
): Promise<unknown> {
  if (script.numberOfKeys !== undefined && keys.length !== script.numberOfKeys) {
    return Promise.reject(
      new Error(
        `agent-session internal error: script ${script.name} (${script.file}.lua) takes ${script.numberOfKeys} keys but was called with ${keys.length}.`,
      ),
    );
  }
  const givesUpAt = clientNow() + deadlineMs;
  const redisDeadline = script.takesDeadline ? toRedisTime(client, givesUpAt) : undefined;
  const argv = args.map(String);
  const options = { keys, arguments: script.takesDeadline ? [String(redisDeadline ?? 0), ...argv] : argv };
  const call = failFast(
    () =>
      evalBySha(client, script, options).catch((error: unknown) => {
        // An ACL refusal inside the script: Redis 7.0 does not name the command, so the error names the script.
        throw toPermissionError(error, `${script.name} (${script.file}.lua)`) ?? error;
      }),
    deadlineMs,
  );
  if (!script.takesDeadline) return call;
  return call.catch(async (error: unknown) => {
    if (parseScriptFailure(error, [DEADLINE_CODE])) {
      throw new StoreUnavailableError(`Redis ran ${script.name} only after its deadline (it was hung or overloaded); nothing was written`, {
        cause: error,
      });
    }
    if (redisDeadline !== undefined && mayHaveBeenSent(error)) {
      const left = givesUpAt - clientNow();
      if (left > 0) await sleep(Math.ceil(left) + 1);
    }
    throw error;
  });
}

/** EVALSHA, and EVAL when the server does not know the script yet. */
async function evalBySha(client: RedisCommandClient, script: LuaScript, options: { keys: string[]; arguments: string[] }): Promise<unknown> {
  try {
    return await client.evalSha(script.sha1, options);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('NOSCRIPT')) return client.eval(script.source, options);
    throw error;
  }
}

/**
 * A connection failure after which the command may be in the server's buffer.
 * node-redis refuses a command it never wrote with ClientOfflineError (not
 * connected, offline queue disabled) or ClientClosedError, and a reply
 * (LOADING, BUSY, ...) means the server did not run it; any other
 * unavailability may have come after the write.
 */
function mayHaveBeenSent(error: unknown): boolean {
  if (!(error instanceof StoreUnavailableError)) return false;
  const cause = error.cause;
  if (!(cause instanceof Error)) return true;
  return !/^(ClientOfflineError|ClientClosedError|ErrorReply|SimpleError)$/.test(cause.constructor.name);
}
