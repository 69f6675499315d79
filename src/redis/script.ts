import { createHash } from 'node:crypto';
import type { RedisCommandClient } from './client.js';
import { failFast } from './fail-fast.js';

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
}

export function defineScript(name: string, source: string, shape: { file: string; numberOfKeys: number | undefined }): LuaScript {
  return { name, source, sha1: createHash('sha1').update(source).digest('hex'), ...shape };
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
 */
export function runScript(
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
  const options = { keys, arguments: args.map(String) };
  return failFast(async () => {
    try {
      return await client.evalSha(script.sha1, options);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return client.eval(script.source, options);
      }
      throw error;
    }
  }, deadlineMs);
}
