import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertValidId } from '../core/ids.js';
import { toAgentSessionError } from '../core/script-errors.js';
import { AgentSessionError, ConfigError, CorruptStateError, InvalidInputError } from '../errors.js';
import { runScript, type LuaScript } from '../redis/script.js';
import { canonicalArgs, normalizeText, type NormalizeRules } from './canonical.js';
import { OVERLAP_BUCKETS, resolveCacheConfig, resolveToolConfig, type CacheConfig, type ToolConfig } from './config.js';
import { shortHash, toolKeys, type ToolKeys } from './keys.js';
import { AUDIT, LOOKUP, PUT, RELEASE, STATS, TAKE } from './scripts.js';
import type { ToolCache, ToolCacheOptions, ToolCacheResult, ToolCacheStats, ToolCacheToolStats, ToolCallContext, ToolRegistration } from './types.js';
import { cosine, decodeVector, encodeVector, MAX_DIMENSIONS } from './vectors.js';

/**
 * A cache in front of tool execution, in Redis. `call()` is the whole
 * protocol (the scripts' headers say what each step does in Redis):
 *
 *   1. LOOKUP the exact entry (canonical arguments, the tool's scope). A hit
 *      is served; for a tool with similarity, a miss returns the newest
 *      candidates' vectors and the caller's text is embedded and compared
 *      here, in Node; a close enough one is served by TAKE.
 *   2. Still a miss: LOOKUP again in 'lock' mode, which takes the call's
 *      single-flight lock (SET NX PX, a token of ours) or says another
 *      caller holds it. The holder runs the tool and PUTs the result, which
 *      releases the lock; the others poll LOOKUP (10 ms, growing to 100 ms)
 *      until the entry is there. A runner that dies leaves a lock that
 *      expires after `lockMs`, and a waiter then takes it and runs the tool.
 *      A waiter that waited `waitMs` runs the tool itself.
 *   3. The tool throws: nothing is cached, the error goes to the caller, and
 *      RELEASE marks the lock 'failed' for a moment, so that the callers
 *      waiting on it each run the tool themselves at once (a failure is
 *      never shared between callers) instead of one after another.
 *   4. On a sampled hit, after the caller has its answer, the tool runs
 *      again in the background and AUDIT records how alike the fresh and
 *      cached results are, replacing the entry when they differ too much.
 *
 * Any failure of Redis (unreachable, too slow, an ACL refusal, a corrupt
 * key) turns into a logger event and the tool running without the cache:
 * the cache can make a call faster, never make it fail.
 */
export class RedisToolCache implements ToolCache {
  readonly #config: CacheConfig;
  readonly #tools = new Map<string, { config: ToolConfig; keys: ToolKeys }>();
  readonly #audits = new Set<Promise<void>>();
  #running = 0;

  constructor(options: ToolCacheOptions) {
    this.#config = resolveCacheConfig(options);
  }

  register(tool: ToolRegistration): void {
    const config = resolveToolConfig(tool);
    if (this.#tools.has(config.name)) throw new ConfigError(`Tool "${config.name}" is registered already; register each tool once.`);
    this.#tools.set(config.name, { config, keys: toolKeys(this.#config.keyPrefix, config.name) });
  }

  async call<T, A = unknown>(name: string, args: A, runTool: (args: A) => T | Promise<T>, context: ToolCallContext = {}): Promise<ToolCacheResult<T>> {
    // Inside, the arguments are plain data: `run` is called with the very `args` the caller passed.
    const run = runTool as (args: unknown) => T | Promise<T>;
    const tool = this.#tools.get(name);
    if (!tool) throw new ConfigError(`Tool "${String(name).slice(0, 64)}" is not registered: cache.register({ name, scope, ttlMs }) first.`);
    if (typeof run !== 'function') throw new InvalidInputError('call() needs the function that runs the tool: call(name, args, (args) => runTool(args)).');
    if (typeof context !== 'object' || context === null) throw new InvalidInputError('The context of call() must be an object, e.g. { userId }.');
    const record = context.record;
    const recordedId = record?.session.id;
    if (tool.config.scope === 'session' && context.sessionId !== undefined && recordedId !== undefined && recordedId !== context.sessionId) {
      // One session's cached result must not be recorded in another session's transcript.
      throw new InvalidInputError(`Tool "${name}" is cached per session: { sessionId } must be the id of record.session (or leave sessionId out).`);
    }
    const recordedUser = record?.session.userId;
    if (tool.config.scope === 'user' && recordedUser !== undefined && recordedUser !== context.userId) {
      // One user's cached result must not be recorded in the session of another user.
      throw new InvalidInputError(`Tool "${name}" is cached per user: { userId } must be the user record.session is bound to.`);
    }
    // A 'session' tool recorded through req.agent before its first write: the session (and its id) comes with the record.
    const idAfterRecord = tool.config.scope === 'session' && context.sessionId === undefined && record !== undefined && record.session.id === undefined;
    let partition = idAfterRecord ? undefined : this.#partition(tool.config, context);
    const canonical = canonicalArgs(args, tool.config.normalize);
    if (record) {
      assertValidId(record.callId, 'tool call id');
      await record.session.startToolCall({ id: record.callId, name, args });
    }
    partition ??= this.#partition(tool.config, context);
    const field = `${partition}|${shortHash(canonical)}`;
    let outcome: Resolved<T>;
    try {
      outcome = await this.#resolve(tool, args, run, partition, field);
    } catch (error) {
      // The tool's own error: recorded as the call's failure, then thrown as it is.
      if (record) await record.session.failToolCall(record.callId, error instanceof Error ? error : String(error)).catch(() => undefined);
      throw error;
    }
    if (record) await record.session.completeToolCall(record.callId, outcome.answer.result ?? null, { cached: outcome.answer.cached });
    if (outcome.audit) this.#startAudit(tool, outcome.audit, args, run);
    return outcome.answer;
  }

  async stats(): Promise<ToolCacheStats> {
    const tools: Record<string, ToolCacheToolStats> = {};
    await Promise.all(
      [...this.#tools.values()].map(async ({ config, keys }) => {
        const reply = (await this.#run(STATS, [keys.stats], [])) as string[];
        const counters = new Map<string, number>();
        for (let i = 0; i + 1 < reply.length; i += 2) counters.set(String(reply[i]), Number(reply[i + 1]));
        tools[config.name] = toolStats(counters);
      }),
    );
    return { tools };
  }

  async idle(): Promise<void> {
    while (this.#audits.size > 0) await Promise.allSettled([...this.#audits]);
  }

  // --- the protocol ------------------------------------------------------------

  /** The scope's partition (keys.ts): 'g', 'u.<hash of the user id>' (user ids may hold any character), 's.<session id>' (a safe id). */
  #partition(tool: ToolConfig, context: ToolCallContext): string {
    if (tool.scope === 'user') {
      const userId = context.userId;
      if (typeof userId !== 'string' || userId.length === 0 || userId.length > 256) {
        throw new InvalidInputError(`Tool "${tool.name}" is cached per user: call() needs { userId } (1-256 characters).`);
      }
      return `u.${shortHash(userId)}`;
    }
    if (tool.scope === 'session') {
      const sessionId = context.sessionId ?? context.record?.session.id;
      assertValidId(sessionId, `agent session id of a call to "${tool.name}" (cached per session: pass { sessionId })`);
      return `s.${sessionId}`;
    }
    return 'g';
  }

  async #resolve<T>(
    tool: { config: ToolConfig; keys: ToolKeys },
    args: unknown,
    run: (args: unknown) => T | Promise<T>,
    partition: string,
    field: string,
  ): Promise<Resolved<T>> {
    const { config, keys } = tool;
    const similar = this.#similarText(config, args, partition, keys);
    const token = randomBytes(12).toString('base64url');
    const lockArgs = [field, config.ttlMs, 'lock', token, config.lockMs];
    const lookupKeys = [keys.entries, keys.index, keys.stats, keys.lock(field), similar?.nearKey ?? keys.near(partition), keys.vectors];
    // undefined: not embedded yet; '': embed failed (reported), the call goes on without similarity.
    let vector: string | undefined;
    let reply: unknown[];
    try {
      if (similar) {
        reply = (await this.#run(LOOKUP, lookupKeys, [field, config.ttlMs, 'near', config.similarity!.candidates, config.lockMs])) as unknown[];
        if (reply[0] === 'near') {
          vector = await this.#embed(config, similar.text);
          const match = vector === '' ? undefined : bestMatch(vector, reply.slice(1), config.similarity!.threshold);
          if (match) {
            const taken = (await this.#run(TAKE, [keys.entries, keys.stats], [match.field, config.ttlMs])) as unknown[];
            const served = taken[0] === 'hit' ? this.#served<T>(config, taken, 'similar', { field, matched: match.field, vector, nearKey: similar.nearKey, similarity: match.similarity }) : undefined;
            if (served) return served;
          }
          reply = (await this.#run(LOOKUP, lookupKeys, lockArgs)) as unknown[];
        }
      } else {
        reply = (await this.#run(LOOKUP, lookupKeys, lockArgs)) as unknown[];
      }
      const giveUpAt = performance.now() + config.waitMs;
      let delay = 10;
      while (reply[0] === 'wait' && performance.now() < giveUpAt) {
        await sleep(Math.min(delay, Math.max(1, giveUpAt - performance.now())));
        delay = Math.min(100, Math.ceil(delay * 1.5));
        reply = (await this.#run(LOOKUP, lookupKeys, lockArgs)) as unknown[];
      }
    } catch (error) {
      if (error instanceof InvalidInputError) throw error;
      this.#unavailable(config.name, 'lookup', error);
      return { answer: { result: await run(args), cached: false, source: 'uncached' } };
    }
    if (reply[0] === 'hit') {
      const served = this.#served<T>(config, reply, 'cache', { field, matched: field, vector: vector ?? '', nearKey: similar?.nearKey ?? '' });
      if (served) return served;
      return { answer: { result: await run(args), cached: false, source: 'uncached' } };
    }
    // 'run' holds the lock; 'failed' (the last run failed) and a wait that ran out run without it.
    const held = reply[0] === 'run' ? token : '';
    if (similar && vector === undefined) vector = await this.#embed(config, similar.text);
    return { answer: await this.#runAndStore(tool, args, run, field, held, vector ?? '', similar?.nearKey ?? '') };
  }

  async #runAndStore<T>(
    tool: { config: ToolConfig; keys: ToolKeys },
    args: unknown,
    run: (args: unknown) => T | Promise<T>,
    field: string,
    token: string,
    vector: string,
    nearKey: string,
  ): Promise<ToolCacheResult<T>> {
    const { config } = tool;
    const started = performance.now();
    let result: T;
    try {
      result = await run(args);
    } catch (error) {
      if (token) await this.#releaseFailed(tool, field, token);
      throw error;
    }
    const runMs = Math.round(performance.now() - started);
    const json = toJson(result);
    const bytes = json === undefined ? 0 : Buffer.byteLength(json);
    if (json === undefined || bytes > config.maxResultBytes) {
      if (json !== undefined) this.#config.logger({ type: 'too-large', tool: config.name, bytes });
      // Nothing will be stored for the waiters: like a failure, the lock holds 'failed' so they each run the tool at once.
      if (token) await this.#releaseFailed(tool, field, token);
      return { result, cached: false, source: 'uncached' };
    }
    let storedAt: unknown;
    try {
      storedAt = await this.#put(tool, field, token, runMs, json, vector, nearKey);
    } catch (error) {
      this.#unavailable(config.name, 'store', error);
      return { result, cached: false, source: 'uncached' };
    }
    // 0: this run outlived its lock and a later run's entry is there already; it stays.
    return { result, cached: false, source: Number(storedAt) === 0 ? 'uncached' : 'run' };
  }

  /** Nothing was stored: the lock holds 'failed' for a moment, so its waiters each run the tool at once (best effort). */
  async #releaseFailed({ config, keys }: { config: ToolConfig; keys: ToolKeys }, field: string, token: string): Promise<void> {
    await this.#run(RELEASE, [keys.lock(field)], [token, Math.min(config.lockMs, FAILED_HOLD_MS)]).catch(() => undefined);
  }

  #put(tool: { config: ToolConfig; keys: ToolKeys }, field: string, token: string, runMs: number, json: string, vector: string, nearKey: string): Promise<unknown> {
    const { config, keys } = tool;
    const candidates = config.similarity?.candidates ?? 0;
    return this.#run(
      PUT,
      [keys.entries, keys.index, keys.vectors, nearKey || keys.near('-'), keys.lock(field), keys.stats],
      [field, token, runMs, json, config.ttlMs, config.maxEntries, nearKey ? vector : '', candidates],
    );
  }

  /** A hit's answer (and its audit, if sampled); undefined when the stored result is not JSON (reported; the caller runs the tool). */
  #served<T>(config: ToolConfig, reply: unknown[], source: 'cache' | 'similar', audit: Omit<AuditJob, 'storedAt' | 'cachedJson'> & { similarity?: number }): Resolved<T> | undefined {
    const [, storedAt, , json, ageMs] = reply as [string, string, string, string, number];
    let result: T;
    try {
      result = JSON.parse(json) as T;
    } catch {
      this.#unavailable(config.name, 'lookup', new CorruptStateError(`${this.#config.keyPrefix}tool-cache:{${config.name}}:entries`, 'an entry is not valid JSON'));
      return undefined;
    }
    const answer: ToolCacheResult<T> = { result, cached: true, source, ageMs: Number(ageMs) };
    if (audit.similarity !== undefined) answer.similarity = audit.similarity;
    const sampled = config.audit.rate > 0 && Math.random() < config.audit.rate;
    if (!sampled) return { answer };
    const { similarity: _similarity, ...job } = audit;
    // The audit parses its own copy: the caller may change the object it was handed before the audit compares.
    return { answer, audit: { ...job, storedAt: String(storedAt), cachedJson: json } };
  }

  // --- audits --------------------------------------------------------------------

  /**
   * Runs the tool again for a sampled hit, after the caller has its answer:
   * never more than `auditConcurrency` at once in this process (a hit
   * sampled beyond that is counted as skipped, not queued), never twice for
   * one hit, never longer than the tool's `lockMs`. Its failures are
   * reported, never thrown.
   */
  #startAudit<T>(tool: { config: ToolConfig; keys: ToolKeys }, job: AuditJob, args: unknown, run: (args: unknown) => T | Promise<T>): void {
    const { config, keys } = tool;
    const auditKeys = [keys.entries, keys.index, keys.stats];
    if (this.#running >= this.#config.auditConcurrency) {
      void this.#run(AUDIT, auditKeys, [job.matched, 'skipped', 'le:1', 0, '', 0, '']).catch((error: unknown) => this.#unavailable(config.name, 'audit', error));
      return;
    }
    this.#running += 1;
    const task: Promise<void> = (async () => {
      // After the caller's continuation: the audit never runs before the answer is handed over.
      await new Promise((resolve) => setImmediate(resolve));
      const started = performance.now();
      let json: string | undefined;
      let score: number;
      try {
        json = toJson(await withinLockMs(run(args), config));
        score = Number(await config.audit.compare(JSON.parse(job.cachedJson), json === undefined ? null : JSON.parse(json)));
        if (!(score >= 0 && score <= 1)) throw new InvalidInputError(`audit.compare of tool "${config.name}" must return a number from 0 to 1.`);
      } catch (error) {
        this.#config.logger({ type: 'audit-error', tool: config.name, error: describeAppError(error), cause: error });
        await this.#run(AUDIT, auditKeys, [job.matched, 'error', 'le:1', 0, '', 0, '']);
        return;
      }
      const runMs = Math.round(performance.now() - started);
      const storable = json !== undefined && Buffer.byteLength(json) <= config.maxResultBytes;
      const drifted = score < config.audit.replaceBelow && storable;
      let replace = '';
      if (drifted && job.matched === job.field) replace = `if:${job.storedAt}`;
      else if (drifted) {
        // A similar entry answered: the fresh result is stored under the caller's own arguments, the other entry stays.
        await this.#put(tool, job.field, '', runMs, json!, job.vector, job.nearKey);
        replace = 'counted';
      }
      const bucket = OVERLAP_BUCKETS.find((le) => score <= le) ?? 1;
      const replaced = await this.#run(AUDIT, auditKeys, [job.matched, 'scored', `le:${bucket}`, Math.round(score * 1e6), replace, runMs, drifted ? json! : '']);
      this.#config.logger({ type: 'audit', tool: config.name, score, replaced: Number(replaced) === 1 });
    })()
      .catch((error: unknown) => this.#unavailable(config.name, 'audit', error))
      .finally(() => {
        this.#running -= 1;
        this.#audits.delete(task);
      });
    this.#audits.add(task);
  }

  // --- helpers -------------------------------------------------------------------

  #similarText(config: ToolConfig, args: unknown, partition: string, keys: ToolKeys): { text: string; nearKey: string } | undefined {
    const similarity = config.similarity;
    if (!similarity || typeof args !== 'object' || args === null || Array.isArray(args)) return undefined;
    const text = (args as Record<string, unknown>)[similarity.argument];
    if (typeof text !== 'string' || text.trim().length === 0) return undefined;
    const others = canonicalArgs({ ...(args as Record<string, unknown>), [similarity.argument]: undefined }, config.normalize);
    const rules: NormalizeRules = typeof config.normalize === 'object' ? config.normalize : {};
    return { text: normalizeText(text, rules, false), nearKey: keys.near(`${partition}|${shortHash(others)}`) };
  }

  /** The text's stored vector; '' when `embed` threw or returned no usable vector (reported): the call goes on with exact matching only. */
  async #embed(config: ToolConfig, text: string): Promise<string> {
    try {
      const vector = await config.similarity!.embed(text);
      const length = (vector as ArrayLike<number> | undefined)?.length;
      if (typeof length !== 'number' || length === 0 || length > MAX_DIMENSIONS) {
        throw new InvalidInputError(`similarity.embed of tool "${config.name}" must return 1 to ${MAX_DIMENSIONS} numbers.`);
      }
      for (let i = 0; i < length; i++) {
        if (!Number.isFinite(vector[i])) throw new InvalidInputError(`similarity.embed of tool "${config.name}" returned a value that is not a finite number.`);
      }
      return encodeVector(vector);
    } catch (error) {
      this.#config.logger({ type: 'embed-error', tool: config.name, error: describeAppError(error), cause: error });
      return '';
    }
  }

  #run(script: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> {
    const { redis, failFastMs, keyPrefix } = this.#config;
    return runScript(redis.client, script, keys, args, failFastMs).catch((error: unknown) => {
      throw toAgentSessionError(error, { sessionId: '', sessionKeys: `${keyPrefix}tool-cache:*` });
    });
  }

  /** A failure of Redis (or of the cache's own checks): its message names keys and codes, never stored content. */
  #unavailable(tool: string, step: 'lookup' | 'store' | 'audit', error: unknown): void {
    const message = error instanceof Error ? `${error.constructor.name}: ${error.message}` : 'unknown error';
    this.#config.logger({ type: 'unavailable', tool, step, error: message, cause: error });
  }
}

/**
 * An audit's run of the tool, given up after the tool's `lockMs` (its slowest
 * run, by the tool's own rule): a run that never ends must not hold one of
 * the `auditConcurrency` places for good. The run itself goes on, unheeded.
 */
function withinLockMs<T>(run: T | Promise<T>, config: ToolConfig): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ConfigError(`An audit of tool "${config.name}" ran longer than lockMs (${config.lockMs} ms) and was given up: set lockMs above the tool's slowest run.`)),
      config.lockMs,
    );
    timer.unref();
  });
  const settled = Promise.resolve(run);
  settled.catch(() => undefined); // a run that fails after it was given up is not unhandled
  return Promise.race([settled, giveUp]).finally(() => clearTimeout(timer));
}

/**
 * An error thrown by the app's own code (the tool, `embed`, `compare`), as the
 * logger's `error` text: our own errors with their message (they never hold
 * stored content), any other by its class only, since its message may quote
 * the call's arguments or results (an API key in a URL, the user's text).
 */
function describeAppError(error: unknown): string {
  if (error instanceof AgentSessionError) return `${error.name}: ${error.message}`;
  const kind = error instanceof Error ? error.constructor.name : typeof error;
  return `${kind} (its message is left out of the log, as it may hold the call's arguments or results; the event's \`cause\` is the error)`;
}

/** The JSON of a tool's result; undefined for what JSON cannot hold (undefined, a function, a BigInt, a cycle): returned, not stored. */
function toJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** How long a failed run's lock holds 'failed' (ms): long enough for every waiter's next poll to see it. */
const FAILED_HOLD_MS = 1_000;

interface AuditJob {
  /** The caller's own entry field. */
  field: string;
  /** The entry served (the caller's own, or a similar one's). */
  matched: string;
  storedAt: string;
  /** The served entry's result JSON, parsed again for the comparison. */
  cachedJson: string;
  vector: string;
  nearKey: string;
}

interface Resolved<T> {
  answer: ToolCacheResult<T>;
  audit?: AuditJob;
}

/** The candidate closest to `vector` at or above `threshold`, from a 'near' reply's field, vector pairs. */
function bestMatch(vector: string, pairs: unknown[], threshold: number): { field: string; similarity: number } | undefined {
  const query = decodeVector(vector);
  let best: { field: string; similarity: number } | undefined;
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const similarity = cosine(query, decodeVector(String(pairs[i + 1])));
    if (similarity >= threshold && (!best || similarity > best.similarity)) best = { field: String(pairs[i]), similarity };
  }
  return best;
}

function toolStats(counters: Map<string, number>): ToolCacheToolStats {
  const count = (name: string) => counters.get(name) ?? 0;
  let cumulative = 0;
  const buckets = OVERLAP_BUCKETS.map((le) => {
    cumulative += count(`le:${le}`);
    return { le, count: cumulative };
  });
  const runs = count('runs');
  return {
    hits: count('hits'),
    misses: count('misses'),
    similarityHits: count('similarityHits'),
    audits: count('audits'),
    auditErrors: count('auditErrors'),
    auditsSkipped: count('auditsSkipped'),
    auditOverlap: { buckets, sum: count('auditScoreMicros') / 1e6, count: count('audits') },
    replacedAfterAudit: count('replacedAfterAudit'),
    timeSavedMs: count('timeSavedMs'),
    meanRunMs: runs === 0 ? 0 : count('runMsTotal') / runs,
  };
}
