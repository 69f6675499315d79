import type { RedisClientType, RedisClusterType, RedisSentinelType } from 'redis';

/**
 * The public vocabulary of the connection layer: what an app passes to
 * `connectRedis()` and what it gets back. Types only, so every other file
 * of this layer can import them without import cycles.
 */

/** The node-redis clients agent-session works with: a single server, a cluster, or a Sentinel-managed master. */
export type NodeRedisClient = RedisClientType | RedisClusterType | RedisSentinelType;

export interface RedisNodeAddress {
  host: string;
  port: number;
}

export interface RedisTlsOptions {
  /** PEM of the CA that signed the server certificate (needed for a private CA). */
  ca?: string | Buffer | undefined;
  /** Client certificate and key, for servers that require one (`tls-auth-clients yes`). */
  cert?: string | Buffer | undefined;
  key?: string | Buffer | undefined;
  /** Name to check the server certificate against, when it differs from the host. */
  servername?: string | undefined;
  /** Defaults to true; false accepts any certificate (never in production). */
  rejectUnauthorized?: boolean | undefined;
}

export interface RedisConnectionOptions {
  /** redis://[user:password@]host[:port][/db] or rediss://... for TLS. Explicit username/password/database options win over the URL's. */
  url?: string | undefined;
  /** Default 127.0.0.1 (when neither url nor sentinel nor cluster is given). */
  host?: string | undefined;
  /** Default 6379. */
  port?: number | undefined;
  /** ACL user (Redis 6+). For Sentinel: the master's user; the sentinels' own is `sentinel.username`. */
  username?: string | undefined;
  password?: string | undefined;
  /** Database number (not for Cluster, which has only 0). */
  database?: number | undefined;
  /** TLS for every connection (for Sentinel: to the sentinels and the master). */
  tls?: boolean | RedisTlsOptions | undefined;
  sentinel?: {
    /** The name the sentinels monitor the master under. */
    masterName: string;
    nodes: RedisNodeAddress[];
    /** Credentials of the sentinels themselves (`requirepass`/ACL in sentinel.conf). */
    username?: string | undefined;
    password?: string | undefined;
  } | undefined;
  /** username/password/tls apply to every node discovered from the root nodes. */
  cluster?: { rootNodes: Array<RedisNodeAddress | { url: string }> } | undefined;
  /**
   * A connected client the app created itself. agent-session does not own
   * it: `close()` leaves it open. It only adds listeners (an `error` listener
   * among them, so a connection error cannot crash the process), which
   * `close()` removes again.
   */
  client?: NodeRedisClient | undefined;
  /** Bound (ms) on any command while Redis is unreachable. Default 2000. */
  failFastMs?: number | undefined;
  /** Backoff between reconnect attempts: the first retry is immediate, then delays grow from `initialDelayMs` (default 50) up to `maxDelayMs` (default 2000). */
  reconnect?: { initialDelayMs?: number | undefined; maxDelayMs?: number | undefined } | undefined;
  /**
   * The unresponsiveness probe of a connection agent-session creates (single
   * server only): every `intervalMs` (default 500) a TIME with a deadline of
   * its own, `timeoutMs` (default 500); when it is not answered in time, the
   * connection is dropped, so the commands waiting on it fail at once, and
   * opened again with the reconnect backoff. Its replies also keep the
   * estimate of Redis's clock that script deadlines use. `false` turns it off.
   */
  probe?: false | { intervalMs?: number | undefined; timeoutMs?: number | undefined } | undefined;
  /** How long `connectRedis` waits for the first ready connection (and the TCP/TLS connect timeout of each attempt). Default 5000. */
  connectTimeoutMs?: number | undefined;
  /** Receives connection events. Default: one `console.warn` line per problem. */
  logger?: ((event: RedisConnectionEvent) => void) | undefined;
  /** Minimum time between two logged events of one type during an outage. Default 10000; 0 logs everything. */
  logIntervalMs?: number | undefined;
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

export type Topology = 'standalone' | 'sentinel' | 'cluster';
