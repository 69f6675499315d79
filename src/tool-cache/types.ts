import type { StoreRedis } from '../core/config.js';
import type { CompleteToolCallOptions, ToolCall, ToolCallInput } from '../core/types.js';
import type { Normalize, NormalizeRules } from './canonical.js';
import type { Scope } from './keys.js';

export type { Normalize, NormalizeRules, Scope };

/** `createToolCache(options)`. */
export interface ToolCacheOptions {
  /** A connection from `connectRedis()` (the app's: the cache adds no connection). */
  redis: StoreRedis;
  /** Prepended to every key, as at the store. Default "agent:". */
  keyPrefix?: string | undefined;
  /** Most audits running at once in this process; a hit sampled while they all run is not audited (counted as skipped). Default 2. */
  auditConcurrency?: number | undefined;
  /**
   * Receives every event of the cache (it must not throw: what it throws is ignored). Default: a `console.warn`
   * line per problem (Redis unreachable, an audit or an `embed` that failed), at most one per tool and kind every 10 s.
   */
  logger?: ((event: ToolCacheEvent) => void) | undefined;
}

/** Similarity matching on one text argument, for near-duplicate calls. */
export interface SimilarityOptions {
  /** The argument holding the text (a top-level string argument, e.g. 'query'); the other arguments must still be equal. */
  argument: string;
  /** The text's vector: your embedding model, or `lexicalEmbedder()`. Called only after an exact miss. */
  embed: (text: string) => ArrayLike<number> | Promise<ArrayLike<number>>;
  /** Smallest cosine similarity that counts as the same call, in (0, 1]. */
  threshold: number;
  /** Most recent entries compared per lookup (of the same scope and other arguments). Default 100, at most 1,000. */
  candidates?: number | undefined;
}

/** Re-running a sample of hits in the background to check the cache against the tool. */
export interface AuditOptions {
  /** Fraction of hits audited, 0 to 1. Default 0.05. */
  rate?: number | undefined;
  /** How alike a cached and a fresh result are, 0 to 1. Default: `overlapScore` (shared words and values). */
  compare?: ((cached: unknown, fresh: unknown) => number | Promise<number>) | undefined;
  /** A fresh result scoring below this replaces the cached one. Default 0.9; 0 never replaces. */
  replaceBelow?: number | undefined;
}

/** `cache.register(tool)`: one tool's cache rules. The scope has no default. */
export interface ToolRegistration {
  /** The tool's name, as your model calls it: letters, digits, '_', '-', '.', at most 64. */
  name: string;
  /**
   * Who may be served an entry: 'global' (every caller: for public data
   * only), 'user' (the same `userId`), 'session' (the same agent session).
   * Required: a tool whose results can be private must not be shared by accident.
   */
  scope: Scope;
  /** How long a result is served (ms). */
  ttlMs: number;
  /** Most entries the tool keeps, over all scopes; the oldest leave first. Default 10,000. */
  maxEntries?: number | undefined;
  /** What does not matter in the arguments: key order never does; see `NormalizeRules`. Default: nothing else. */
  normalize?: Normalize | undefined;
  /** Near-duplicate matching on one text argument. Default: exact matches only. */
  similarity?: SimilarityOptions | undefined;
  /** Audit sampling; `false` turns it off. Default: 5% of hits, overlap score, replace below 0.9. */
  audit?: AuditOptions | false | undefined;
  /** How long a runner holds a call's single-flight lock (ms): set it above the tool's slowest run. Default 30 s. */
  lockMs?: number | undefined;
  /** How long a caller waits for another's run of the same call before running the tool itself (ms). Default `lockMs`. */
  waitMs?: number | undefined;
  /** Largest result cached, as JSON (bytes); a larger one is returned, not stored. Default 256 KiB. */
  maxResultBytes?: number | undefined;
}

/** What a session handle (or `req.agent`) offers for recording a call; an `AgentSession` is one. */
export interface ToolCallRecorder {
  startToolCall(input: ToolCallInput): Promise<ToolCall>;
  completeToolCall(callId: string, result: unknown, options?: CompleteToolCallOptions): Promise<void>;
  failToolCall(callId: string, error: string | Error): Promise<void>;
}

/** `cache.call()`'s context: who is calling, and where to record the call. */
export interface ToolCallContext {
  /** Required for a 'user'-scoped tool; when `record.session` is bound to a user (`req.agent.userId`), it must be that user. */
  userId?: string | undefined;
  /** Required for a 'session'-scoped tool (or taken from `record.session.id`; when both are given they must be equal). */
  sessionId?: string | undefined;
  /**
   * Record the call in the agent session: started before the lookup,
   * completed with the result (`cached: true` when it came from the cache)
   * or failed with the tool's error.
   */
  record?: { session: ToolCallRecorder & { readonly id?: string | undefined; readonly userId?: string | undefined }; callId: string } | undefined;
}

/** Where a result came from. */
export type ToolResultSource =
  /** the tool ran (a miss), and its result is now cached */
  | 'run'
  /** an entry for the same (normalised) arguments */
  | 'cache'
  /** an entry for arguments whose text was similar enough */
  | 'similar'
  /** the tool ran and its result was not stored: Redis unreachable, a result too large (or not JSON), or a run that outlived its lock after a later run had stored its result */
  | 'uncached';

export interface ToolCacheResult<T> {
  result: T;
  /** True for 'cache' and 'similar'. */
  cached: boolean;
  source: ToolResultSource;
  /** How old the cached entry is (ms), for 'cache' and 'similar'. */
  ageMs?: number;
  /** The cosine similarity of the match, for 'similar'. */
  similarity?: number;
}

/** One overlap bucket of the audit histogram: audits that scored at most `le` (cumulative, like Prometheus's). */
export interface OverlapBucket {
  le: number;
  count: number;
}

/** A tool's figures, over every process that uses the cache (they are counted in Redis). */
export interface ToolCacheToolStats {
  /** Calls answered from the cache (exact and similar; waiters of another's run included). */
  hits: number;
  /** Calls that ran the tool. */
  misses: number;
  /** The part of `hits` answered by similarity. */
  similarityHits: number;
  /** Audits that ran and were scored. */
  audits: number;
  /** Audits whose tool run failed (not scored). */
  auditErrors: number;
  /** Hits sampled for an audit while `auditConcurrency` audits were running (not audited). */
  auditsSkipped: number;
  /** The overlap scores of the audits, cumulative buckets, the last one `le: 1` (= audits). */
  auditOverlap: { buckets: OverlapBucket[]; sum: number; count: number };
  /** Entries replaced by a fresh result after an audit. */
  replacedAfterAudit: number;
  /** Sum of the measured run times of the results served from the cache (ms). */
  timeSavedMs: number;
  /** Mean run time of the tool on misses (ms); 0 before the first. */
  meanRunMs: number;
}

export interface ToolCacheStats {
  tools: Record<string, ToolCacheToolStats>;
}

/**
 * What the cache tells its logger. `error` is text safe to log: it never
 * holds a call's arguments or results (an error thrown by the tool, `embed`
 * or `compare` is named by its class only). `cause` is the original error,
 * for a logger of your own that knows what its messages may hold; the
 * default logger never prints it.
 */
export type ToolCacheEvent =
  /** Redis failed a cache step; the tool ran (or the result was returned) without the cache. */
  | { type: 'unavailable'; tool: string; step: 'lookup' | 'store' | 'audit'; error: string; cause: unknown }
  /** A finished audit: its overlap score and whether the entry was replaced. */
  | { type: 'audit'; tool: string; score: number; replaced: boolean }
  /** An audit's tool run (or comparison) failed. */
  | { type: 'audit-error'; tool: string; error: string; cause: unknown }
  /** `similarity.embed` threw or returned no usable vector: the call went on with exact matching only. */
  | { type: 'embed-error'; tool: string; error: string; cause: unknown }
  /** A result too large to store (`maxResultBytes`): returned uncached. */
  | { type: 'too-large'; tool: string; bytes: number };

export interface ToolCache {
  /** Registers a tool's rules; `ConfigError` for a bad rule or a name registered twice. */
  register(tool: ToolRegistration): void;
  /**
   * The cached result of `name` for `args`, or `run(args)`'s, stored for the
   * tool's TTL. Identical concurrent calls, in any process, run the tool once.
   * The tool's own error is thrown as it is and never cached. `run` gets
   * `args` as they were passed (a tool typed with its own arguments fits).
   */
  call<T, A = unknown>(name: string, args: A, run: (args: A) => T | Promise<T>, context?: ToolCallContext): Promise<ToolCacheResult<T>>;
  /** Every registered tool's figures, read from Redis (one HGETALL per tool). */
  stats(): Promise<ToolCacheStats>;
  /** Resolves when the audits running now have finished (for shutdown and tests). */
  idle(): Promise<void>;
}
