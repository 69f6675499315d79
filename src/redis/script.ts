import { createHash } from 'node:crypto';
import type { RedisCommandClient } from './client.js';
import { failFast } from './fail-fast.js';

export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha1: string;
}

export function defineScript(name: string, source: string): LuaScript {
  return { name, source, sha1: createHash('sha1').update(source).digest('hex') };
}

/**
 * Runs a script by its SHA (one small command on the hot path), loading it
 * with EVAL only when the server does not know it yet (first use, a restart,
 * SCRIPT FLUSH, or a Cluster node that has not seen it). Bounded by the
 * fail-fast deadline like every other library call.
 */
export function runScript(
  client: RedisCommandClient,
  script: LuaScript,
  keys: string[],
  args: Array<string | number>,
  deadlineMs: number,
): Promise<unknown> {
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
