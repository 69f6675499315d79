import { checkRedisOption, resolveKeyPrefix, type StoreRedis } from '../core/config.js';
import { ConfigError } from '../errors.js';
import { knownKeys, MAX_TIMER_MS, oneOf, optionalFunction, optionsObject, requiredFunction, wholeMs, wholeNumber } from '../options.js';
import { resolveFailFastMs } from '../redis/options.js';
import type { Normalize } from './canonical.js';
import { TOOL_NAME, type Scope } from './keys.js';
import { overlapScore } from './overlap.js';
import type { AuditOptions, SimilarityOptions, ToolCacheEvent, ToolCacheOptions, ToolRegistration } from './types.js';

export const TOOL_CACHE_DEFAULTS = {
  keyPrefix: 'agent:',
  auditConcurrency: 2,
  maxEntries: 10_000,
  candidates: 100,
  auditRate: 0.05,
  replaceBelow: 0.9,
  lockMs: 30_000,
  maxResultBytes: 256 * 1024,
} as const;

/** Most candidates a similarity lookup may compare (`similarity.candidates`). */
const MAX_CANDIDATES = 1_000;
/** Most entries one tool may keep (`maxEntries`). */
const MAX_ENTRIES = 1_000_000;

/** The overlap buckets of the audit histogram (upper bounds, inclusive). */
export const OVERLAP_BUCKETS = [0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1] as const;

export interface CacheConfig {
  redis: StoreRedis;
  failFastMs: number;
  keyPrefix: string;
  auditConcurrency: number;
  logger: (event: ToolCacheEvent) => void;
}

export interface ToolConfig {
  name: string;
  scope: Scope;
  ttlMs: number;
  maxEntries: number;
  normalize: Normalize | undefined;
  similarity: Required<SimilarityOptions> | undefined;
  audit: { rate: number; compare: NonNullable<AuditOptions['compare']>; replaceBelow: number };
  lockMs: number;
  waitMs: number;
  maxResultBytes: number;
}

const CACHE_OPTIONS = ['redis', 'keyPrefix', 'auditConcurrency', 'logger'] satisfies Array<keyof ToolCacheOptions>;
const TOOL_OPTIONS = [
  'name', 'scope', 'ttlMs', 'maxEntries', 'normalize', 'similarity', 'audit', 'lockMs', 'waitMs', 'maxResultBytes',
] satisfies Array<keyof ToolRegistration>;
const SIMILARITY_OPTIONS = ['argument', 'embed', 'threshold', 'candidates'] satisfies Array<keyof SimilarityOptions>;
const AUDIT_OPTIONS = ['rate', 'compare', 'replaceBelow'] satisfies Array<keyof AuditOptions>;
const NORMALIZE_OPTIONS = ['whitespace', 'lowercase'];

/** Problems as one line each, at most one line per tool and kind every 10 s (an outage would otherwise log every call). */
function defaultLogger(): (event: ToolCacheEvent) => void {
  const lastAt = new Map<string, number>();
  return (event) => {
    if (event.type !== 'unavailable' && event.type !== 'audit-error' && event.type !== 'embed-error') return;
    const key = `${event.type}:${event.tool}`;
    const now = Date.now();
    if (now - (lastAt.get(key) ?? -Infinity) < 10_000) return;
    lastAt.set(key, now);
    if (event.type === 'unavailable') console.warn(`[agent-session tool-cache:${event.tool}] ${event.step} without the cache: ${event.error}`);
    else if (event.type === 'audit-error') console.warn(`[agent-session tool-cache:${event.tool}] audit failed: ${event.error}`);
    else console.warn(`[agent-session tool-cache:${event.tool}] similarity.embed failed, exact matching only: ${event.error}`);
  };
}

/** The logger as the cache calls it: what it throws is dropped (a broken logger must not fail a call nor leave a rejection unhandled). */
function neverThrows(logger: (event: ToolCacheEvent) => void): (event: ToolCacheEvent) => void {
  return (event) => {
    try {
      logger(event);
    } catch {
      // Nowhere left to report it.
    }
  };
}

export function resolveCacheConfig(options: ToolCacheOptions): CacheConfig {
  optionsObject(options, 'createToolCache() needs an options object: createToolCache({ redis: await connectRedis({ url }) }).');
  knownKeys(options, CACHE_OPTIONS, { what: 'createToolCache()' });
  checkRedisOption(options.redis, 'createToolCache({ redis: await connectRedis({ url: process.env.REDIS_URL }) })');
  return {
    redis: options.redis,
    failFastMs: resolveFailFastMs('redis.failFastMs', options.redis.failFastMs),
    keyPrefix: resolveKeyPrefix(options.keyPrefix),
    auditConcurrency: wholeNumber('auditConcurrency', options.auditConcurrency, TOOL_CACHE_DEFAULTS.auditConcurrency, { min: 0, max: 1_000 }),
    logger: neverThrows(optionalFunction('logger', options.logger, 'a function that receives each tool-cache event') ?? defaultLogger()),
  };
}

/** A fraction in [min, 1]; `fallback` when left out. */
function fraction(name: string, value: unknown, fallback: number | undefined, min: number, openMin = false): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value > 1 || value < min || (openMin && value === min)) {
    const range = openMin ? `above ${min} and at most 1` : `from ${min} to 1`;
    throw new ConfigError(`\`${name}\` must be a number ${range}${fallback !== undefined ? ` (default ${fallback})` : ''}.`);
  }
  return value;
}

export function resolveToolConfig(tool: ToolRegistration): ToolConfig {
  optionsObject(tool, "register() needs the tool's rules: register({ name: 'web_search', scope: 'global', ttlMs: 600000 }).");
  knownKeys(tool, TOOL_OPTIONS, { what: 'register()' });
  const name = tool.name;
  if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
    throw new ConfigError('`name` must be 1-64 letters, digits, "_", "-" or "." (the name your model calls the tool by).');
  }
  const scope = oneOf('scope', tool.scope, ['global', 'user', 'session'], undefined, "'global', 'user' or 'session' (required: who may be served a cached result)");
  if (scope === undefined) {
    throw new ConfigError("`scope` is required: 'global' (every caller; public data only), 'user' (the same userId) or 'session' (the same agent session).");
  }
  if (tool.ttlMs === undefined) throw new ConfigError('`ttlMs` is required: how long a result may be served, in milliseconds.');
  const ttlMs = wholeMs('ttlMs', tool.ttlMs, 0, { max: 365 * 24 * 3600 * 1000 });
  const lockMs = wholeMs('lockMs', tool.lockMs, TOOL_CACHE_DEFAULTS.lockMs, { max: MAX_TIMER_MS });
  return {
    name,
    scope,
    ttlMs,
    maxEntries: wholeNumber('maxEntries', tool.maxEntries, TOOL_CACHE_DEFAULTS.maxEntries, { max: MAX_ENTRIES }),
    normalize: resolveNormalize(tool.normalize),
    similarity: resolveSimilarity(tool.similarity),
    audit: resolveAudit(tool.audit),
    lockMs,
    waitMs: wholeMs('waitMs', tool.waitMs, lockMs, { max: MAX_TIMER_MS }),
    maxResultBytes: wholeNumber('maxResultBytes', tool.maxResultBytes, TOOL_CACHE_DEFAULTS.maxResultBytes, { unit: 'bytes', max: 64 * 1024 * 1024 }),
  };
}

function resolveNormalize(value: unknown): Normalize | undefined {
  if (value === undefined || typeof value === 'function') return value as Normalize | undefined;
  optionsObject(value, "`normalize` must be { whitespace?: 'collapse', lowercase?: true | ['argument', ...] } or a function (args) => what to compare.");
  knownKeys(value, NORMALIZE_OPTIONS, { path: 'normalize.' });
  oneOf('normalize.whitespace', value.whitespace, ['keep', 'collapse'], 'keep', "'keep' (the default) or 'collapse'");
  const lowercase = value.lowercase;
  if (lowercase !== undefined && typeof lowercase !== 'boolean' && !(Array.isArray(lowercase) && lowercase.every((item) => typeof item === 'string'))) {
    throw new ConfigError('`normalize.lowercase` must be true, false, or a list of argument names.');
  }
  return value as Normalize;
}

function resolveSimilarity(value: unknown): Required<SimilarityOptions> | undefined {
  if (value === undefined) return undefined;
  optionsObject(value, "`similarity` must be { argument: 'query', embed: lexicalEmbedder(), threshold: 0.9 }.");
  knownKeys(value, SIMILARITY_OPTIONS, { path: 'similarity.' });
  if (typeof value.argument !== 'string' || value.argument.length === 0) {
    throw new ConfigError('`similarity.argument` must name the text argument to compare, e.g. \'query\'.');
  }
  return {
    argument: value.argument,
    embed: requiredFunction('similarity.embed', value.embed, 'a function (text) => vector (numbers), e.g. lexicalEmbedder() or your embedding model'),
    threshold: fraction('similarity.threshold', value.threshold, undefined, 0, true),
    candidates: wholeNumber('similarity.candidates', value.candidates, TOOL_CACHE_DEFAULTS.candidates, { max: MAX_CANDIDATES }),
  };
}

function resolveAudit(value: unknown): ToolConfig['audit'] {
  if (value === false) return { rate: 0, compare: overlapScore, replaceBelow: 0 };
  if (value === undefined) return { rate: TOOL_CACHE_DEFAULTS.auditRate, compare: overlapScore, replaceBelow: TOOL_CACHE_DEFAULTS.replaceBelow };
  optionsObject(value, '`audit` must be false or { rate?: 0.05, compare?: (cached, fresh) => score, replaceBelow?: 0.9 }.');
  knownKeys(value, AUDIT_OPTIONS, { path: 'audit.' });
  return {
    rate: fraction('audit.rate', value.rate, TOOL_CACHE_DEFAULTS.auditRate, 0),
    compare: optionalFunction('audit.compare', value.compare, 'a function (cached, fresh) => a score from 0 to 1') ?? overlapScore,
    replaceBelow: fraction('audit.replaceBelow', value.replaceBelow, TOOL_CACHE_DEFAULTS.replaceBelow, 0),
  };
}
