import { createToolCache, type ToolCache, type ToolCacheEvent, type ToolCacheOptions } from 'agent-session/tool-cache';
import type { TestClient } from '../harness/store.js';
import { uniquePrefix } from '../harness/store.js';

/** A tool cache with its own key prefix on the test server, recording its events. */
export function testCache(client: TestClient, options: Partial<ToolCacheOptions> = {}): { cache: ToolCache; keyPrefix: string; events: ToolCacheEvent[] } {
  const keyPrefix = uniquePrefix();
  const events: ToolCacheEvent[] = [];
  const cache = createToolCache({ redis: { client, failFastMs: 2_000 }, keyPrefix, logger: (event) => events.push(event), ...options });
  return { cache, keyPrefix, events };
}

/** A tool that counts its runs and answers with its arguments and the run number. */
export function countingTool<A = unknown>(answer: (args: A, run: number) => unknown = (args, run) => ({ args, run })) {
  const tool = {
    runs: 0,
    run: async (args: unknown) => {
      tool.runs += 1;
      return answer(args as A, tool.runs);
    },
  };
  return tool;
}
