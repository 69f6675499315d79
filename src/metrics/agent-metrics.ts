import { Counter, Gauge, Histogram, register as globalRegister, type Registry } from 'prom-client';
import { resolveKeyPrefix } from '../core/config.js';
import { readObserverBacklog, type ObserverBacklog } from '../core/observer-backlog.js';
import { toAgentSessionError } from '../core/script-errors.js';
import {
  AgentSessionError,
  ArchiveBacklogFullError,
  ArchiveUnavailableError,
  ConfigError,
  SessionUserMismatchError,
  StoreUnavailableError,
} from '../errors.js';
import { addInstrumentation, type ClosingResponse, type InstrumentationSink } from '../instrumentation.js';
import { knownKeys, optionalFunction, optionsObject, wholeMs } from '../options.js';
import type { RedisCommandClient } from '../redis/client.js';
import type { NodeRedisClient } from '../redis/types.js';
import { mirroredCounter } from './mirrored-counter.js';
import { RedisInfoSampler, type RedisFigures } from './redis-info.js';
import { registerToolCacheMetrics, type MetricsToolCache } from './tool-cache-metrics.js';

/** What the metrics need of an observer worker (`createObserverWorker()`). */
export interface MetricsObserverWorker {
  readonly kind: string;
  backlog(): Promise<{ length: number; pending: number; oldestAgeMs: number | null }>;
}

/** What the metrics need of an archiver (`createArchiver()`). */
export interface MetricsArchiver {
  backlog(): Promise<{ sessions: number; entries: number }>;
}

export interface AgentMetricsOptions {
  /** The process's connection (`connectRedis()`): its state, and the Redis server figures read through it. */
  redis: { readonly client: NodeRedisClient & RedisCommandClient; readonly failFastMs: number };
  /** The prom-client registry to register on. Default: prom-client's global `register`. */
  register?: Registry | undefined;
  /** The app's `keyPrefix`, where the observer queues are. Default "agent:". */
  keyPrefix?: string | undefined;
  /**
   * Observer kinds whose queue length, pending jobs and oldest age to
   * report. Default ["default"] (and the kind of `observer`); [] reports
   * none (an archiver's Redis user may not read the queues).
   */
  observerKinds?: string[] | undefined;
  /** The observer worker, in a worker process: adds its runs and its queue. */
  observer?: MetricsObserverWorker | undefined;
  /** The archiver, in an archiver process: adds what it archived, its errors, and the archive backlog. */
  archiver?: MetricsArchiver | undefined;
  /**
   * The tool cache (`createToolCache()`): adds its figures per tool (hits,
   * misses, similarity hits, audits and their overlap, replaced entries,
   * time saved), read with one `stats()` per `sampleEveryMs`.
   */
  toolCache?: MetricsToolCache | undefined;
  /**
   * How often the Redis server figures (one INFO), the archive backlog and
   * the tool cache's figures are read at most (ms); scrapes in between report the last reading.
   * Default 10,000.
   */
  sampleEveryMs?: number | undefined;
  /** Where the one warning goes when the Redis user may not run INFO. Default `console.warn`. */
  logger?: ((message: string) => void) | undefined;
}

export interface AgentMetrics {
  /** The names of the metrics registered. */
  readonly names: readonly string[];
  /** Stops counting and removes the metrics from the registry. Idempotent. */
  close(): void;
}

const OPTIONS = ['redis', 'register', 'keyPrefix', 'observerKinds', 'observer', 'archiver', 'toolCache', 'sampleEveryMs', 'logger'];
const DEFAULT_SAMPLE_EVERY_MS = 10_000;

/** Latency buckets (seconds) of a Redis round trip: sub-millisecond on loopback up to the fail-fast bound. */
const OPERATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const RUN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const RESTORE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const LAG_BUCKETS = [0, 1, 2, 3, 5, 10, 20, 50, 100];

/** The outcomes of `agent_session_requests_total`. */
export type RequestOutcome = 'served' | 'store_unavailable' | 'user_mismatch' | 'input_refused' | 'archive_unavailable' | 'archive_backlog_full';

/** One sampler per client, shared by every registry of the process: INFO is read at most once per interval. */
const samplers = new WeakMap<object, RedisInfoSampler>();

/**
 * Registers agent-session's Prometheus metrics on `register` and starts
 * counting: what this process's stores, middleware and workers do (every
 * one in the process reports), the connection's state, the Redis server's
 * figures, and the queues and backlogs of the parts passed in. Labels are
 * from fixed lists (operation names, outcomes, kinds), never session or
 * user ids, so the number of series does not grow with traffic.
 */
export function agentMetrics(options: AgentMetricsOptions): AgentMetrics {
  optionsObject(options, 'agentMetrics() needs an options object: agentMetrics({ redis }).');
  knownKeys(options, OPTIONS, { what: 'agentMetrics()' });
  const { redis, observer, archiver, toolCache } = options;
  if (!redis || typeof redis.client?.isOpen !== 'boolean') {
    throw new ConfigError('`redis` must be the connection from connectRedis(), e.g. agentMetrics({ redis: await connectRedis({ url }) }).');
  }
  const registry = options.register ?? globalRegister;
  if (typeof registry?.registerMetric !== 'function') throw new ConfigError('`register` must be a prom-client Registry, e.g. new Registry() or prom-client\'s `register`.');
  if (observer !== undefined && typeof observer?.backlog !== 'function') throw new ConfigError('`observer` must be the worker from createObserverWorker().');
  if (archiver !== undefined && typeof archiver?.backlog !== 'function') throw new ConfigError('`archiver` must be the archiver from createArchiver().');
  if (toolCache !== undefined && typeof toolCache?.stats !== 'function') throw new ConfigError('`toolCache` must be the cache from createToolCache().');
  const kinds = options.observerKinds ?? ['default'];
  if (!Array.isArray(kinds) || kinds.some((kind) => typeof kind !== 'string' || kind.length === 0)) {
    throw new ConfigError('`observerKinds` must be an array of observer kinds, e.g. ["default"].');
  }
  const keyPrefix = resolveKeyPrefix(options.keyPrefix);
  const sampleEveryMs = wholeMs('sampleEveryMs', options.sampleEveryMs, DEFAULT_SAMPLE_EVERY_MS, { min: 0 });
  const logger = optionalFunction<(message: string) => void>('logger', options.logger, 'a function that receives a warning line') ?? ((line) => console.warn(line));
  if (registry.getSingleMetric('agent_session_operation_duration_seconds')) {
    throw new ConfigError('agentMetrics() was already called with this registry: call it once per process (or close() the first one).');
  }

  const sampler =
    samplers.get(redis.client) ??
    new RedisInfoSampler(redis.client, redis.failFastMs, sampleEveryMs, () =>
      logger('[agent-session metrics] the Redis user may not run INFO: the agent_session_redis_* server figures are left out. Grant it with ACL SETUSER <user> +info.'),
    );
  samplers.set(redis.client, sampler);

  const registers = [registry];
  const names: string[] = [];
  // prom-client's types do not show a metric's name; every metric object has it.
  const add: Add = (metric) => {
    names.push((metric as unknown as { name: string }).name);
    return metric;
  };

  // --- every process: operations and the connection ------------------------
  const operationSeconds = add(
    new Histogram({
      name: 'agent_session_operation_duration_seconds',
      help: 'Agent operations (one Lua script call each) by operation, successful or not: latency in seconds.',
      labelNames: ['operation'],
      buckets: OPERATION_BUCKETS,
      registers,
    }),
  );
  const operationErrors = add(
    new Counter({ name: 'agent_session_operation_errors_total', help: 'Agent operations that failed, by operation and error code.', labelNames: ['operation', 'code'], registers }),
  );
  const timeouts = add(new Counter({ name: 'agent_session_redis_timeouts_total', help: 'Redis calls that hit the fail-fast bound (failFastMs) without a reply.', registers }));
  const reconnects = add(new Counter({ name: 'agent_session_redis_reconnects_total', help: 'Reconnect attempts of connectRedis() connections.', registers }));
  add(
    new Gauge({
      name: 'agent_session_redis_connection_state',
      help: 'The connection state: 1 for the current one of ready, reconnecting, closed.',
      labelNames: ['state'],
      registers,
      collect() {
        const { client } = redis;
        const state = !client.isOpen ? 'closed' : client.isReady ? 'ready' : 'reconnecting';
        for (const name of ['ready', 'reconnecting', 'closed']) this.set({ state: name }, name === state ? 1 : 0);
      },
    }),
  );
  registerRedisFigures(add, registers, () => sampler.figures());

  // --- the request path: requests, notes, restores (zero in a worker process) --
  const requests = add(
    new Counter({
      name: 'agent_session_requests_total',
      help: 'Requests through the agentSession() middleware by outcome: served, or answered by it with a 503 (store_unavailable, archive_unavailable, archive_backlog_full), 403 (user_mismatch) or 4xx (input_refused).',
      labelNames: ['outcome'],
      registers,
    }),
  );
  const served = requests.labels('served');
  for (const outcome of ['served', 'store_unavailable', 'user_mismatch', 'input_refused', 'archive_unavailable', 'archive_backlog_full']) requests.inc({ outcome }, 0);
  const refused = new WeakSet<ClosingResponse>();
  const lag = add(
    new Histogram({
      name: 'agent_session_observer_notes_lag_turns',
      help: 'Turns the observer notes missed when they were read (notes(), snapshot()).',
      buckets: LAG_BUCKETS,
      registers,
    }),
  );
  const restoreSeconds = add(
    new Histogram({
      name: 'agent_session_archive_restore_duration_seconds',
      help: 'Conversations restored from the cold tier by resume(): latency in seconds (its _count is the number of restores).',
      buckets: RESTORE_BUCKETS,
      registers,
    }),
  );

  const byOperation = new Map<string, { observe(seconds: number): void }>();
  const sink: InstrumentationSink = {
    script(name, seconds, error) {
      const operation = name.startsWith('agent-session:') ? name.slice('agent-session:'.length) : name;
      let timer = byOperation.get(operation);
      if (timer === undefined) {
        timer = operationSeconds.labels(operation);
        byOperation.set(operation, timer);
      }
      timer.observe(seconds);
      if (error !== undefined) operationErrors.inc({ operation, code: errorCode(error) });
    },
    timeout: () => timeouts.inc(),
    connection: (type) => {
      if (type === 'reconnecting') reconnects.inc();
    },
    requestStarted: (response) => {
      response.once('close', () => {
        if (!refused.has(response)) served.inc();
      });
    },
    requestRefused: (error, response) => {
      if (refused.has(response)) return;
      refused.add(response);
      requests.inc({ outcome: requestOutcome(error) });
    },
    notesRead: (turns) => lag.observe(turns),
    restored: (seconds) => restoreSeconds.observe(seconds),
    // Set below when this process runs an observer worker or an archiver.
    observerRun: () => undefined,
    archived: () => undefined,
    archiveError: () => undefined,
  };

  const queues = new Map<string, () => Promise<ObserverBacklog>>();
  for (const kind of kinds) queues.set(kind, () => readObserverBacklog(redis.client, keyPrefix, kind, redis.failFastMs));

  // --- the observer worker ---------------------------------------------------
  if (observer) {
    const runs = add(new Counter({ name: 'agent_session_observer_runs_total', help: 'Observer runs by kind and outcome (written, kept, failed, session-gone, busy, ...).', labelNames: ['kind', 'outcome'], registers }));
    const runSeconds = add(
      new Histogram({ name: 'agent_session_observer_run_duration_seconds', help: 'Observer runs: duration in seconds, analyze() included.', labelNames: ['kind'], buckets: RUN_BUCKETS, registers }),
    );
    sink.observerRun = (kind, outcome, seconds) => {
      runs.inc({ kind, outcome });
      runSeconds.observe({ kind }, seconds);
    };
    queues.set(observer.kind, () => observer.backlog());
  }
  if (queues.size > 0) registerQueueGauges(add, registers, queues);

  // --- the archiver ------------------------------------------------------------
  if (archiver) {
    const records = add(new Counter({ name: 'agent_session_archive_records_total', help: 'Records copied into the cold tier by kind (turn, tool, notes).', labelNames: ['kind'], registers }));
    for (const kind of ['turn', 'tool', 'notes']) records.inc({ kind }, 0);
    const errors = add(new Counter({ name: 'agent_session_archive_errors_total', help: 'Archiver failures (PostgreSQL, Redis, or a session with a bad backlog); it retries.', registers }));
    sink.archived = (batch) => {
      for (const record of batch) records.inc({ kind: record.kind });
    };
    sink.archiveError = () => errors.inc();
    const backlog = sampled(sampleEveryMs, () => archiver.backlog());
    add(
      new Gauge({
        name: 'agent_session_archive_backlog_sessions',
        help: 'Sessions with changes not yet copied to the cold tier (sampled).',
        registers,
        async collect() {
          const read = await backlog();
          if (read) this.set(read.sessions);
          else this.remove();
        },
      }),
    );
    add(
      new Gauge({
        name: 'agent_session_archive_backlog_entries',
        help: 'Changes (turns, tool-call states, notes) waiting in the archive backlogs (sampled; of the oldest 1,000 sessions).',
        registers,
        async collect() {
          const read = await backlog();
          if (read) this.set(read.entries);
          else this.remove();
        },
      }),
    );
  }

  // --- the tool cache ------------------------------------------------------------
  if (toolCache) registerToolCacheMetrics(add, registers, sampled(sampleEveryMs, () => toolCache.stats()));

  const remove = addInstrumentation(sink);
  let closed = false;
  return {
    names,
    close() {
      if (closed) return;
      closed = true;
      remove();
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}

type Add = <M extends object>(metric: M) => M;
type Registers = Registry[];

function registerQueueGauges(add: Add, registers: Registers, queues: Map<string, () => Promise<{ length: number; pending: number; oldestAgeMs: number | null }>>): void {
  // One read per kind per scrape, shared by the three gauges: prom-client starts their collect() calls in one synchronous pass (then awaits them together), so the second and third join the first one's read.
  let reading: Promise<Map<string, { length: number; pending: number; oldestAgeMs: number | null } | undefined>> | undefined;
  const read = () => {
    reading ??= Promise.all(
      [...queues].map(async ([kind, backlog]) => [kind, await backlog().catch(() => undefined)] as const),
    ).then((entries) => {
      queueMicrotask(() => (reading = undefined));
      return new Map(entries);
    });
    return reading;
  };
  const gauge = (name: string, help: string, value: (backlog: { length: number; pending: number; oldestAgeMs: number | null }) => number | null) =>
    add(
      new Gauge({
        name,
        help,
        labelNames: ['kind'],
        registers,
        async collect() {
          const backlogs = await read();
          for (const [kind, backlog] of backlogs) {
            const figure = backlog ? value(backlog) : null;
            if (figure === null) this.remove({ kind });
            else this.set({ kind }, figure);
          }
        },
      }),
    );
  gauge('agent_session_observer_queue_length', 'Jobs in the observer queue of each kind: waiting, or received by a worker and not yet done.', (backlog) => backlog.length);
  gauge('agent_session_observer_queue_pending', 'Jobs a worker received and has not finished (running, or left by a worker that stopped).', (backlog) => backlog.pending);
  gauge('agent_session_observer_queue_oldest_age_seconds', 'Age of the oldest job in the queue, in seconds (absent when the queue is empty).', (backlog) =>
    backlog.oldestAgeMs === null ? null : backlog.oldestAgeMs / 1000,
  );
}

function registerRedisFigures(add: Add, registers: Registers, figures: () => Promise<RedisFigures | undefined>): void {
  const gauge = (name: string, help: string, value: (figures: RedisFigures) => number | undefined) =>
    add(
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const read = await figures();
          const figure = read ? value(read) : undefined;
          if (figure === undefined) this.remove();
          else this.set(figure);
        },
      }),
    );
  // Counters of the server, reported as they are (a restart of Redis resets them, which Prometheus' rate() handles).
  const counter = (name: string, help: string, value: (figures: RedisFigures) => number) =>
    add(mirroredCounter(registers, { name, help }, figures, (read) => [[{}, value(read)]]));
  gauge('agent_session_redis_used_memory_bytes', 'Redis used_memory (summed over a Cluster\'s masters; sampled).', (f) => f.usedMemoryBytes);
  gauge('agent_session_redis_maxmemory_bytes', 'Redis maxmemory (0: no limit; sampled).', (f) => f.maxmemoryBytes);
  gauge('agent_session_redis_connected_clients', 'Redis connected_clients (sampled).', (f) => f.connectedClients);
  gauge('agent_session_redis_replica_lag_bytes', 'Largest replication offset lag of the replicas the server lists, in bytes (absent without replicas; sampled).', (f) => f.replicaLagBytes);
  counter('agent_session_redis_evicted_keys_total', 'Redis evicted_keys (sampled).', (f) => f.evictedKeys);
  counter('agent_session_redis_expired_keys_total', 'Redis expired_keys (sampled).', (f) => f.expiredKeys);
  counter('agent_session_redis_keyspace_hits_total', 'Redis keyspace_hits (sampled).', (f) => f.keyspaceHits);
  counter('agent_session_redis_keyspace_misses_total', 'Redis keyspace_misses (sampled).', (f) => f.keyspaceMisses);
}

/** `read` at most once per `everyMs`; undefined when it failed. */
function sampled<T>(everyMs: number, read: () => Promise<T>): () => Promise<T | undefined> {
  let last: Promise<T | undefined> | undefined;
  let takenAt = -Infinity;
  return () => {
    const now = performance.now();
    if (last && now - takenAt < everyMs) return last;
    takenAt = now;
    last = read().catch(() => undefined);
    return last;
  };
}

function requestOutcome(error: unknown): Exclude<RequestOutcome, 'served'> {
  if (error instanceof StoreUnavailableError) return 'store_unavailable';
  if (error instanceof SessionUserMismatchError) return 'user_mismatch';
  if (error instanceof ArchiveUnavailableError) return 'archive_unavailable';
  if (error instanceof ArchiveBacklogFullError) return 'archive_backlog_full';
  return 'input_refused';
}

/** The error's code (STORE_UNAVAILABLE, SESSION_NOT_FOUND, ...), or OTHER. */
function errorCode(error: unknown): string {
  const typed = error instanceof AgentSessionError ? error : toAgentSessionError(error, { sessionId: '', sessionKeys: '' });
  return typed instanceof AgentSessionError ? typed.code : 'OTHER';
}
