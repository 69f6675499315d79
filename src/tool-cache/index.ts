/**
 * agent-session/tool-cache: a cache in Redis in front of an agent's tool
 * calls, with exact and similarity matching, per-tool scopes, single-flight
 * across processes, and audit sampling that re-runs a fraction of hits in
 * the background to show whether the cache can be trusted.
 */
import { RedisToolCache } from './cache.js';
import type { ToolCache, ToolCacheOptions } from './types.js';

/** A tool cache on the app's Redis connection; `register()` each tool, then `call()` through it. */
export function createToolCache(options: ToolCacheOptions): ToolCache {
  return new RedisToolCache(options);
}

export { lexicalEmbedder, type LexicalEmbedderOptions } from './lexical-embedder.js';
export { overlapScore } from './overlap.js';
export type {
  AuditOptions,
  Normalize,
  NormalizeRules,
  OverlapBucket,
  Scope,
  SimilarityOptions,
  ToolCache,
  ToolCacheEvent,
  ToolCacheOptions,
  ToolCacheResult,
  ToolCacheStats,
  ToolCacheToolStats,
  ToolCallContext,
  ToolCallRecorder,
  ToolRegistration,
  ToolResultSource,
} from './types.js';
