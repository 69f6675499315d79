import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createClient,
  createCluster,
  createSentinel,
  type RedisClientType,
  type RedisClusterType,
  type RedisSentinelType,
} from 'redis';
import { ConfigError, StoreUnavailableError } from '../core/errors.js';
import { reconnectDelay } from './backoff.js';
import { createEventLog } from './event-log.js';
import { failFast } from './fail-fast.js';
import { formatAddress, resolveConnectionOptions, type ResolvedRedisConfig } from './options.js';
import { scrubSecrets } from './redact.js';

/**
 * One node-redis connection for agent-session, whatever the topology: it is
 * created from options (or handed in by the app), waits for its first
 * `ready`, reconnects forever with capped backoff afterwards, fails commands
 * fast while Redis is unreachable, and reports its events, rate-limited and
 * without secrets, to a logger.
 */

export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_LOG_INTERVAL_MS } from './options.js';
export { DEFAULT_FAIL_FAST_MS } from './fail-fast.js';

/** The node-redis clients agent-session works with: a single server, a cluster, or a Sentinel-managed master. */
export type NodeRedisClient = RedisClientType | RedisClusterType | RedisSentinelType;

export interface RedisNodeAddress {
  host: string;
  port: number;
}

export interface RedisTlsOptions {
  /** PEM of the CA that signed the server certificate (needed for a private CA). */
  ca?: string | Buffer;
  /** Client certificate and key, for servers that require one (`tls-auth-clients yes`). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name to check the server certificate against, when it differs from the host. */
  servername?: string;
  /** Defaults to true; false accepts any certificate (never in production). */
  rejectUnauthorized?: boolean;
}

export interface RedisConnectionOptions {
  /** redis://[user:password@]host[:port][/db] or rediss://... for TLS. Explicit username/password/database options win over the URL's. */
  url?: string;
  /** Default 127.0.0.1 (when neither url nor sentinel nor cluster is given). */
  host?: string;
  /** Default 6379. */
  port?: number;
  /** ACL user (Redis 6+). For Sentinel: the master's user; the sentinels' own is `sentinel.username`. */
  username?: string;
  password?: string;
  /** Database number (not for Cluster, which has only 0). */
  database?: number;
  /** TLS for every connection (for Sentinel: to the sentinels and the master). */
  tls?: boolean | RedisTlsOptions;
  sentinel?: {
    /** The name the sentinels monitor the master under. */
    masterName: string;
    nodes: RedisNodeAddress[];
    /** Credentials of the sentinels themselves (`requirepass`/ACL in sentinel.conf). */
    username?: string;
    password?: string;
  };
  /** username/password/tls apply to every node discovered from the root nodes. */
  cluster?: { rootNodes: Array<RedisNodeAddress | { url: string }> };
  /**
   * A connected client the app created itself. agent-session does not own
   * it: `close()` leaves it open. It only adds listeners (an `error` listener
   * among them, so a connection error cannot crash the process), which
   * `close()` removes again.
   */
  client?: NodeRedisClient;
  /** Bound (ms) on any command while Redis is unreachable. Default 2000. */
  failFastMs?: number;
  /** Backoff between reconnect attempts: the first retry is immediate, then delays grow from `initialDelayMs` (default 50) up to `maxDelayMs` (default 2000). */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** How long `connectRedis` waits for the first ready connection (and the TCP/TLS connect timeout of each attempt). Default 5000. */
  connectTimeoutMs?: number;
  /** Receives connection events. Default: one `console.warn` line per problem. */
  logger?: (event: RedisConnectionEvent) => void;
  /** Minimum time between two logged events of one type during an outage. Default 10000; 0 logs everything. */
  logIntervalMs?: number;
}

export type RedisConnectionEvent =
  | { type: 'connect' }
  | { type: 'ready' }
  | { type: 'reconnecting'; attempt: number; delayMs: number }
  /** `suppressed`: errors left out by the rate limit since the previous logged error. */
  | { type: 'error'; message: string; suppressed?: number }
  | { type: 'warning'; message: string };

export interface RedisHealth {
  /** 'reconnecting' whenever Redis does not answer (connectRedis only resolves once it did); 'closed' after close(). */
  state: 'ready' | 'reconnecting' | 'closed';
  /** PING round trip (for a cluster: the slowest master), when ready. */
  latencyMs?: number;
}

export interface RedisConnection {
  readonly client: NodeRedisClient;
  /** True when agent-session created the client and `close()` quits it. */
  readonly owned: boolean;
  readonly failFastMs: number;
  /** State and PING latency; settles within `failFastMs` even when Redis hangs. */
  health(): Promise<RedisHealth>;
  /** Quits an owned client (waiting at most `failFastMs` for pending replies); for an app-supplied client only removes our listeners. Idempotent. */
  close(): Promise<void>;
}

/**
 * `connectRedis` gave up at start-up. A `StoreUnavailableError` (code
 * STORE_UNAVAILABLE) whose message says where it tried and how to fix it;
 * nothing keeps reconnecting in the background.
 */
export class RedisStartupError extends StoreUnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.message = message;
  }
}

export type Topology = 'standalone' | 'sentinel' | 'cluster';

export async function connectRedis(options: RedisConnectionOptions): Promise<RedisConnection> {
  const config = resolveConnectionOptions(options);
  const report = createEventLog({ sink: config.logger, intervalMs: config.logIntervalMs });
  const startup = { deadline: performance.now() + config.connectTimeoutMs, done: false };
  const owned = config.target.kind !== 'supplied';
  const client = config.target.kind === 'supplied' ? config.target.client : createOwnedClient(config, reconnectStrategy(config, report, startup));
  const topology = topologyOf(client);
  if (!owned && !client.isOpen) {
    throw new ConfigError(
      'The client passed as `client` is not connected: call `await client.connect()` before passing it, ' +
        'or pass `url` (or host/port, sentinel, cluster) instead and let agent-session create and own the client.',
    );
  }
  const listeners = watchEvents(client, topology, config, report);

  try {
    await openWithin(client, topology, config, startup.deadline, listeners);
  } catch (error) {
    if (owned) await destroyQuietly(client);
    listeners.detach();
    throw startupError(config, listeners.lastError(), error);
  } finally {
    startup.done = true;
  }
  await warnAboutEviction(client, topology, config, report);

  let closed = false;
  return {
    client,
    owned,
    failFastMs: config.failFastMs,
    health: async () => {
      if (closed || !client.isOpen) return { state: 'closed' };
      if (!client.isReady) return { state: 'reconnecting' };
      const started = performance.now();
      try {
        await failFast(() => ping(client), config.failFastMs);
        return { state: 'ready', latencyMs: Math.round((performance.now() - started) * 100) / 100 };
      } catch {
        return { state: closed ? 'closed' : 'reconnecting' };
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      if (owned) await closeWithin(client, config.failFastMs);
      else listeners.detach();
    },
  };
}

/**
 * The reconnect strategy of every connection we create. After start-up it
 * never gives up, not even after a socket timeout (where node-redis's
 * default strategy stops for good).
 */
function reconnectStrategy(
  config: ResolvedRedisConfig,
  report: (event: RedisConnectionEvent) => void,
  startup: { deadline: number; done: boolean },
): (failures: number, cause: Error) => number | Error {
  return (failures, cause) => {
    // A wrong password or an untrusted certificate will not fix itself: fail start-up now.
    if (!startup.done && permanentFailureHint(cause) !== undefined) return cause;
    let delayMs = reconnectDelay(failures, config.reconnect);
    // During start-up, never sleep past the deadline, so that nothing is left
    // waiting once connectRedis has given up.
    if (!startup.done) delayMs = Math.max(0, Math.min(delayMs, Math.ceil(startup.deadline - performance.now())));
    report({ type: 'reconnecting', attempt: failures + 1, delayMs });
    return delayMs;
  };
}

function createOwnedClient(config: ResolvedRedisConfig, strategy: ReturnType<typeof reconnectStrategy>): NodeRedisClient {
  const socket = {
    connectTimeout: config.connectTimeoutMs,
    // A connection that stays silent this long is dropped and re-opened, so a
    // command written to a hung server or a dead peer fails instead of
    // waiting for TCP to notice; pingInterval keeps healthy idle ones busy.
    socketTimeout: config.failFastMs,
    reconnectStrategy: strategy,
  };
  const socketFor = (node: Partial<RedisNodeAddress>) =>
    config.tls ? { ...socket, ...node, ...config.tls, tls: true as const } : { ...socket, ...node, tls: false as const };
  const perNode = {
    username: config.username,
    password: config.password,
    // Reject commands at once while reconnecting instead of queueing them without bound.
    disableOfflineQueue: true,
    pingInterval: Math.max(1, Math.floor(config.failFastMs / 2)),
  };
  // Bounds only the time a command waits to be written: node-redis drops the timer once it is on the wire, where socketTimeout takes over.
  const commandOptions = { timeout: config.failFastMs };
  const { target } = config;
  switch (target.kind) {
    case 'standalone':
      return createClient({ ...perNode, database: config.database, socket: socketFor(target.node), commandOptions });
    case 'sentinel':
      return createSentinel({
        name: target.masterName,
        sentinelRootNodes: target.nodes,
        nodeClientOptions: { ...perNode, database: config.database, socket: socketFor({}) },
        sentinelClientOptions: {
          username: target.username,
          password: target.password,
          // The sentinels are reconnected to forever too, with the same backoff.
          socket: config.tls
            ? { connectTimeout: config.connectTimeoutMs, reconnectStrategy: strategy, ...config.tls, tls: true }
            : { connectTimeout: config.connectTimeoutMs, reconnectStrategy: strategy },
        },
        // Without it, errors of the master connection are not emitted by the sentinel object at all.
        passthroughClientErrorEvents: true,
        commandOptions,
      });
    case 'cluster':
      return createCluster({
        rootNodes: target.rootNodes.map((node) => ({ socket: { host: node.host, port: node.port } })),
        // Root node options only serve discovery; defaults reach every node.
        defaults: { ...perNode, socket: socketFor({}) },
        commandOptions,
      });
    case 'supplied':
      return target.client;
  }
}

/** Which kind of node-redis client this is (an app-supplied one included). */
export function topologyOf(client: NodeRedisClient): Topology {
  if ('nodeClient' in client) return 'cluster';
  if ('getSentinelNode' in client) return 'sentinel';
  return 'standalone';
}

/** The listener type of EventEmitter#on, which every node-redis client extends. */
type ClientListener = Parameters<RedisClientType['on']>[1];

interface EventListeners {
  detach(): void;
  /** The last connection error seen, for the start-up error message. */
  lastError(): unknown;
  /** Resolves when the client reports it is ready. */
  ready(): Promise<void>;
}

function watchEvents(
  client: NodeRedisClient,
  topology: Topology,
  config: ResolvedRedisConfig,
  report: (event: RedisConnectionEvent) => void,
): EventListeners {
  let lastError: unknown;
  let readyWaiters: Array<() => void> = [];
  const onError = (prefix: string) => (error: unknown) => {
    lastError = error;
    report({ type: 'error', message: scrubSecrets(prefix + describeError(error), config.secrets) });
  };
  const onReady = () => {
    report({ type: 'ready' });
    const waiters = readyWaiters;
    readyWaiters = [];
    for (const wake of waiters) wake();
  };
  const onConnect = () => report({ type: 'connect' });
  const handlers: Array<[string, ClientListener]> = [['error', onError('')]];
  if (topology === 'cluster') {
    const onNodeError = (error: unknown, node?: RedisNodeAddress) => onError(node ? `node ${formatAddress(node)}: ` : '')(error);
    // The cluster emits `connect` once its topology is known and node clients are up: that is its ready.
    handlers.push(['connect', onReady], ['node-connect', onConnect], ['node-ready', onReady], ['node-error', onNodeError]);
  } else {
    handlers.push(['connect', onConnect], ['ready', onReady]);
  }
  for (const [event, handler] of handlers) client.on(event, handler);
  return {
    detach: () => {
      for (const [event, handler] of handlers) client.off(event, handler);
    },
    lastError: () => lastError,
    ready: () => new Promise((resolve) => readyWaiters.push(resolve)),
  };
}

/** Opens the client (or waits for an app-supplied one) until its first ready, or rejects at the deadline. */
async function openWithin(
  client: NodeRedisClient,
  topology: Topology,
  config: ResolvedRedisConfig,
  deadline: number,
  listeners: EventListeners,
): Promise<void> {
  const giveUp = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      giveUp.abort();
      reject(new StartupTimeout());
    }, Math.max(0, deadline - performance.now()));
  });
  const opening =
    config.target.kind !== 'supplied' ? openOwned(client, topology, config, giveUp.signal) : client.isReady ? Promise.resolve() : listeners.ready();
  opening.catch(() => undefined); // it may lose the race and reject later
  try {
    await Promise.race([opening, timeout]);
  } finally {
    clearTimeout(timer);
    giveUp.abort();
  }
}

class StartupTimeout extends Error {}

async function openOwned(client: NodeRedisClient, topology: Topology, config: ResolvedRedisConfig, giveUp: AbortSignal): Promise<void> {
  if (topology !== 'cluster') {
    await client.connect();
    return;
  }
  // cluster.connect() fails at once when no root node answers, instead of
  // retrying: retry it here until start-up is given up (the sleep is
  // cancelled then, and no further attempt may reopen the destroyed cluster).
  for (let failures = 1; ; failures += 1) {
    try {
      await client.connect();
      return;
    } catch (error) {
      if (giveUp.aborted || permanentFailureHint(error) !== undefined) throw error;
      await sleep(reconnectDelay(failures, config.reconnect), { signal: giveUp });
    }
  }
}

async function destroyQuietly(client: NodeRedisClient): Promise<void> {
  try {
    await client.destroy();
  } catch {
    // already closed
  }
}

/** Graceful close (pending replies may arrive) for at most `boundMs`, then destroy. */
async function closeWithin(client: NodeRedisClient, boundMs: number): Promise<void> {
  if (!client.isOpen) return destroyQuietly(client);
  try {
    await failFast(() => client.close(), boundMs);
  } catch {
    await destroyQuietly(client);
  }
}

async function ping(client: NodeRedisClient): Promise<void> {
  if ('nodeClient' in client) {
    await Promise.all(client.masters.map(async (master) => (await client.nodeClient(master)).ping()));
    return;
  }
  await client.ping();
}

/**
 * An allkeys-* eviction policy lets Redis evict live sessions when memory is
 * full. Checked once at start-up; skipped quietly when CONFIG is not allowed
 * (an ACL user without +config, a managed Redis that renames it).
 */
async function warnAboutEviction(
  client: NodeRedisClient,
  topology: Topology,
  config: ResolvedRedisConfig,
  report: (event: RedisConnectionEvent) => void,
): Promise<void> {
  let policies: string[];
  try {
    policies = await failFast(() => evictionPolicies(client), config.failFastMs);
  } catch {
    return;
  }
  const risky = policies.find((policy) => policy.startsWith('allkeys-'));
  if (risky === undefined) return;
  const where = topology === 'cluster' ? 'on at least one cluster master' : `on ${config.description}`;
  report({
    type: 'warning',
    message:
      `maxmemory-policy is "${risky}" ${where}: when memory runs out Redis may evict any key, including live agent sessions. ` +
      `Use "volatile-ttl" or "volatile-lru" (CONFIG SET maxmemory-policy volatile-ttl, and in redis.conf), or "noeviction" to never lose a session.`,
  });
}

async function evictionPolicies(client: NodeRedisClient): Promise<string[]> {
  const read = async (node: { configGet(parameter: string): Promise<unknown> }) => {
    const reply = await node.configGet('maxmemory-policy');
    const value = reply instanceof Map ? reply.get('maxmemory-policy') : (reply as Record<string, unknown>)['maxmemory-policy'];
    return String(value ?? '');
  };
  if ('nodeClient' in client) {
    return Promise.all(client.masters.map(async (master) => read(await client.nodeClient(master))));
  }
  return [await read(client)];
}

function startupError(config: ResolvedRedisConfig, lastError: unknown, failure: unknown): RedisStartupError {
  const cause = lastError ?? (failure instanceof StartupTimeout ? undefined : failure);
  const reason = cause === undefined ? '' : ` (last error: ${scrubSecrets(describeError(cause), config.secrets)})`;
  const within = `within ${config.connectTimeoutMs} ms`;
  if (config.target.kind === 'supplied') {
    return new RedisStartupError(
      `The app-supplied Redis client did not become ready ${within}${reason}. Check that it can reach Redis, or raise \`connectTimeoutMs\`.`,
      { cause },
    );
  }
  const fix =
    permanentFailureHint(cause) ??
    'Start redis-server there, or point agent-session at your Redis with the `url` option (for example from the REDIS_URL environment variable).';
  return new RedisStartupError(`Could not connect to ${config.description} ${within}${reason}. ${fix}`, { cause });
}

function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') {
    return error.errors.map(describeError).join('; ');
  }
  if (error instanceof Error) return error.message || error.constructor.name;
  return String(error);
}

/** For failures that retrying cannot cure (credentials, certificates): what to fix. */
function permanentFailureHint(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (/^(WRONGPASS|NOAUTH|NOPERM)\b/.test(error.message)) {
    return 'Check `username`/`password` (the ACL user must exist, be enabled and have this password).';
  }
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (/CERT|SELF_SIGNED|HOSTNAME|ERR_SSL|ERR_TLS/.test(code)) {
    return 'Check the `tls` options: `ca` must hold the CA that signed the server certificate, and the host or `servername` must match it.';
  }
  return undefined;
}
