import { createHash } from 'node:crypto';

/**
 * The tool cache's key schema, in one place. For a tool `<tool>` and the
 * app's key prefix `<prefix>`:
 *
 *   <prefix>tool-cache:{<tool>}:entries    hash  '<partition>|<argsHash>' -> '<storedAt>:<runMs>:<result JSON>'
 *   <prefix>tool-cache:{<tool>}:index      zset  the same fields by storedAt (expiry, the per-tool cap)
 *   <prefix>tool-cache:{<tool>}:vectors    hash  field -> the entry's vector (tools with similarity)
 *   <prefix>tool-cache:{<tool>}:near:<partition>|<otherArgsHash>
 *                                          zset  a similarity partition's newest entries by storedAt
 *   <prefix>tool-cache:{<tool>}:lock:<partition>|<argsHash>
 *                                          string  the single-flight lock of one call (token or 'failed')
 *   <prefix>tool-cache:{<tool>}:stats      hash  the tool's counters
 *
 * `<partition>` is the scope: 'g' (global), 'u.<hash of the user id>' (per
 * user), 's.<session id>' (per agent session). The `{<tool>}` hash tag puts
 * every key of one tool in one Cluster slot, so every script runs on one
 * node; the price is that one tool's cache lives on one shard (several tools
 * spread over the cluster, one busy tool does not).
 */
export interface ToolKeys {
  entries: string;
  index: string;
  vectors: string;
  stats: string;
  lock(field: string): string;
  near(partition: string): string;
}

export function toolKeys(prefix: string, tool: string): ToolKeys {
  const base = `${prefix}tool-cache:{${tool}}:`;
  return {
    entries: `${base}entries`,
    index: `${base}index`,
    vectors: `${base}vectors`,
    stats: `${base}stats`,
    lock: (field) => `${base}lock:${field}`,
    near: (partition) => `${base}near:${partition}`,
  };
}

/** Tool names become hash tags: letters, digits, '_', '-' and '.', at most 64 (what model APIs accept as function names). */
export const TOOL_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** 128 bits of SHA-256, base64url: the name of a text in a key or a field. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

export type Scope = 'global' | 'user' | 'session';
