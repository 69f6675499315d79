import { ConfigError } from '../errors.js';
import { knownKeys, MAX_TIMER_MS, oneOf, optionalFunction, optionalString, optionsObject, wholeMs, wholeNumber } from '../options.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import type { NodeRedisClient, RedisConnectionEvent, RedisConnectionOptions, RedisNodeAddress, RedisTlsOptions } from './types.js';
import { createConsoleLogger } from './event-log.js';
import { DEFAULT_FAIL_FAST_MS } from './fail-fast.js';
import type { ProbeOptions } from './probe.js';

/**
 * The one place that turns `RedisConnectionOptions` into a resolved config:
 * every option is checked once, defaults are filled in, URLs are parsed here
 * (never by node-redis, whose URL errors can echo the password), and each
 * mistake is a `ConfigError` that names the option and the fix.
 */

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_LOG_INTERVAL_MS = 10_000;
/** How often the unresponsiveness probe runs, and how long it waits for its reply (see probe.ts). */
export const DEFAULT_PROBE: Readonly<ProbeOptions> = { intervalMs: 500, timeoutMs: 500 };
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 6379;

export type RedisTarget =
  | { kind: 'standalone'; node: RedisNodeAddress }
  | { kind: 'sentinel'; masterName: string; nodes: RedisNodeAddress[]; username?: string; password?: string }
  | { kind: 'cluster'; rootNodes: RedisNodeAddress[] }
  | { kind: 'supplied'; client: NodeRedisClient };

export interface ResolvedRedisConfig {
  target: RedisTarget;
  /** ACL user of the data nodes (for Sentinel: of the master, not the sentinels). */
  username?: string;
  password?: string;
  database?: number;
  /** Present when connections use TLS. */
  tls?: RedisTlsOptions;
  failFastMs: number;
  reconnect: BackoffOptions;
  /** The unresponsiveness probe of an owned standalone connection; undefined when turned off (`probe: false`). */
  probe: ProbeOptions | undefined;
  connectTimeoutMs: number;
  logger: (event: RedisConnectionEvent) => void;
  logIntervalMs: number;
  /** Where we connect, for messages. Never contains a password. */
  description: string;
  /** Passwords to scrub from any text we pass on. */
  secrets: string[];
}

const KNOWN_OPTIONS = [
  'url', 'host', 'port', 'username', 'password', 'database', 'tls', 'sentinel', 'cluster', 'client',
  'failFastMs', 'reconnect', 'probe', 'connectTimeoutMs', 'logger', 'logIntervalMs',
];
const TLS_OPTIONS = ['ca', 'cert', 'key', 'servername', 'rejectUnauthorized'];
const CONNECTION_OPTIONS = ['url', 'host', 'port', 'username', 'password', 'database', 'tls', 'sentinel', 'cluster'] as const;

export function resolveConnectionOptions(options: RedisConnectionOptions): ResolvedRedisConfig {
  optionsObject(options, 'Redis connection options must be an object, e.g. { url: "redis://localhost:6379" }.');
  knownKeys(options, KNOWN_OPTIONS, { what: 'Redis connection' });
  const common = {
    failFastMs: resolveFailFastMs('failFastMs', options.failFastMs),
    reconnect: resolveBackoff(options.reconnect),
    probe: resolveProbe(options.probe),
    connectTimeoutMs: wholeMs('connectTimeoutMs', options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, { max: MAX_TIMER_MS }),
    logger:
      optionalFunction<(event: RedisConnectionEvent) => void>(
        'logger',
        options.logger,
        'a function that receives connection events, e.g. (event) => log.warn(event)',
      ) ?? createConsoleLogger(),
    logIntervalMs: wholeMs('logIntervalMs', options.logIntervalMs, DEFAULT_LOG_INTERVAL_MS, { min: 0 }),
  };

  if (options.client !== undefined) {
    const extra = CONNECTION_OPTIONS.filter((key) => options[key] !== undefined);
    if (extra.length > 0) {
      throw new ConfigError(
        `Pass either \`client\` (a node-redis client you created and connected) or connection options, not both; ` +
          `remove ${extra.map((key) => `\`${key}\``).join(', ')}, or remove \`client\` and let agent-session create the client.`,
      );
    }
    assertClientLike(options.client);
    return { ...common, target: { kind: 'supplied', client: options.client }, description: 'the app-supplied Redis client', secrets: [] };
  }

  const topologies = (['url', 'sentinel', 'cluster'] as const).filter((key) => options[key] !== undefined);
  if (topologies.length > 1) {
    throw new ConfigError(
      `Redis options ${topologies.map((key) => `\`${key}\``).join(' and ')} cannot be combined: give \`url\` (or host/port) ` +
        `for a single server, \`sentinel\` for a Sentinel-managed master, or \`cluster\` for a Redis Cluster.`,
    );
  }
  if ((options.sentinel !== undefined || options.cluster !== undefined) && (options.host !== undefined || options.port !== undefined)) {
    const topology = options.sentinel !== undefined ? 'sentinel' : 'cluster';
    throw new ConfigError(`\`host\`/\`port\` cannot be combined with \`${topology}\`: list the addresses in \`${topology}\` instead.`);
  }

  const fromUrl = options.url !== undefined ? parseRedisUrl('url', options.url) : undefined;
  if (fromUrl && (options.host !== undefined || options.port !== undefined)) {
    throw new ConfigError('Give either `url` or `host`/`port`, not both: put the host and port into the URL, or drop `url`.');
  }
  // Explicit options win over the URL's, so a URL without a password can be
  // combined with a password from a secret store.
  const username = optionalString('username', options.username) ?? fromUrl?.username;
  const password = optionalString('password', options.password) ?? fromUrl?.password;
  const database = optionalDatabase('database', options.database) ?? fromUrl?.database;
  if (options.database !== undefined && fromUrl?.database !== undefined && options.database !== fromUrl.database) {
    throw new ConfigError(`\`database\` is ${options.database} but \`url\` selects database ${fromUrl.database}; keep only one of them.`);
  }

  if (options.sentinel !== undefined) {
    const sentinel = resolveSentinel(options.sentinel);
    const tls = resolveTls(options.tls, undefined, 'sentinel');
    const nodes = sentinel.nodes.map(formatAddress).join(', ');
    return {
      ...common,
      target: { kind: 'sentinel', ...sentinel },
      username,
      password,
      database,
      tls,
      description: `Sentinel master "${sentinel.masterName}" via ${nodes}`,
      secrets: [password, sentinel.password].filter(isNonEmpty),
    };
  }

  if (options.cluster !== undefined) {
    if (database !== undefined && database !== 0) {
      throw new ConfigError('Redis Cluster has only database 0: remove `database` (keys are kept apart by the key prefix instead).');
    }
    const cluster = resolveCluster(options.cluster);
    const tls = resolveTls(options.tls, cluster.tlsFromUrl, 'cluster.rootNodes');
    return {
      ...common,
      target: { kind: 'cluster', rootNodes: cluster.rootNodes },
      username,
      password,
      tls,
      description: `Redis Cluster via root nodes ${cluster.rootNodes.map(formatAddress).join(', ')}`,
      secrets: [password].filter(isNonEmpty),
    };
  }

  const node: RedisNodeAddress = fromUrl
    ? { host: fromUrl.host, port: fromUrl.port }
    : { host: optionalHost('host', options.host) ?? DEFAULT_HOST, port: optionalPort('port', options.port) ?? DEFAULT_PORT };
  const tls = resolveTls(options.tls, fromUrl?.tls, 'url');
  const scheme = tls ? 'rediss' : 'redis';
  return {
    ...common,
    target: { kind: 'standalone', node },
    username,
    password,
    database,
    tls,
    description: `${scheme}://${username ? `${username}@` : ''}${formatAddress(node)}${database ? `/${database}` : ''}`,
    secrets: [password].filter(isNonEmpty),
  };
}

/**
 * The fail-fast bound, by one rule wherever it is read: here from the
 * options, and by the store and the observer worker from the connection
 * they are given (`redis.failFastMs`), which may be an app-made
 * `{ client, failFastMs }`.
 */
export function resolveFailFastMs(name: string, value: unknown): number {
  return wholeMs(name, value, DEFAULT_FAIL_FAST_MS, { max: MAX_TIMER_MS });
}

export function formatAddress(node: RedisNodeAddress): string {
  return node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;
}

interface ParsedRedisUrl {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  database?: number;
}

const URL_SHAPE = 'redis://[username:password@]host[:port][/database] (or rediss:// for TLS)';

/** Parses a redis:// or rediss:// URL. Error messages never repeat the URL, which may hold a password. */
export function parseRedisUrl(name: string, url: unknown): ParsedRedisUrl {
  if (typeof url !== 'string' || url.length === 0) {
    throw new ConfigError(`\`${name}\` must be a non-empty string of the form ${URL_SHAPE}.`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`\`${name}\` is not a valid URL; expected ${URL_SHAPE}.`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(`\`${name}\` must start with redis:// or rediss://, not ${parsed.protocol}//; expected ${URL_SHAPE}.`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host.length === 0) throw new ConfigError(`\`${name}\` has no host; expected ${URL_SHAPE}.`);
  const result: ParsedRedisUrl = { host, port: parsed.port ? Number(parsed.port) : DEFAULT_PORT, tls: parsed.protocol === 'rediss:' };
  if (parsed.username) result.username = decodeURIComponent(parsed.username);
  if (parsed.password) result.password = decodeURIComponent(parsed.password);
  const path = parsed.pathname.replace(/^\//, '');
  if (path.length > 0) {
    if (!/^\d+$/.test(path)) {
      throw new ConfigError(`The path of \`${name}\` must be a database number such as /0 or /2.`);
    }
    result.database = Number(path);
  }
  return result;
}

function resolveSentinel(value: unknown): Omit<Extract<RedisTarget, { kind: 'sentinel' }>, 'kind'> {
  optionsObject(value, '`sentinel` must be an object: { masterName: "mymaster", nodes: [{ host, port }] }.');
  knownKeys(value, ['masterName', 'nodes', 'username', 'password'], { path: 'sentinel.' });
  const sentinel = value;
  if (typeof sentinel.masterName !== 'string' || sentinel.masterName.length === 0) {
    throw new ConfigError(
      '`sentinel.masterName` is required: the name the sentinels monitor the master under (the `sentinel monitor <name> ...` line), e.g. "mymaster".',
    );
  }
  if (!Array.isArray(sentinel.nodes) || sentinel.nodes.length === 0) {
    throw new ConfigError('`sentinel.nodes` must list at least one sentinel as { host, port }; list two or three so one can be down.');
  }
  return {
    masterName: sentinel.masterName,
    nodes: sentinel.nodes.map((node, index) => address(`sentinel.nodes[${index}]`, node)),
    username: optionalString('sentinel.username', sentinel.username),
    password: optionalString('sentinel.password', sentinel.password),
  };
}

function resolveCluster(value: unknown): { rootNodes: RedisNodeAddress[]; tlsFromUrl?: boolean } {
  optionsObject(value, '`cluster` must be an object: { rootNodes: [{ host, port }] }, listing several nodes so one can be down.');
  knownKeys(value, ['rootNodes'], { path: 'cluster.' });
  const { rootNodes } = value;
  if (!Array.isArray(rootNodes) || rootNodes.length === 0) {
    throw new ConfigError('`cluster.rootNodes` must list at least one cluster node as { host, port } or { url }; list several so one can be down.');
  }
  let tlsFromUrl: boolean | undefined;
  const nodes = rootNodes.map((node: unknown, index): RedisNodeAddress => {
    const name = `cluster.rootNodes[${index}]`;
    if (typeof node !== 'object' || node === null || !('url' in node)) return address(name, node);
    knownKeys(node, ['url'], { path: `${name}.` });
    const parsed = parseRedisUrl(`${name}.url`, node.url);
    if (parsed.username !== undefined || parsed.password !== undefined || parsed.database !== undefined) {
      throw new ConfigError(
        `\`${name}.url\` carries credentials or a database; put \`username\`/\`password\` on the top-level options so they apply to every discovered node ` +
          `(Redis Cluster has only database 0).`,
      );
    }
    if (tlsFromUrl !== undefined && tlsFromUrl !== parsed.tls) {
      throw new ConfigError('`cluster.rootNodes` mixes redis:// and rediss:// URLs; every node of a cluster uses the same transport.');
    }
    tlsFromUrl = parsed.tls;
    return { host: parsed.host, port: parsed.port };
  });
  return { rootNodes: nodes, tlsFromUrl };
}

/** `urlTls` is what the URL scheme says (undefined when no URL was given). */
function resolveTls(value: unknown, urlTls: boolean | undefined, urlOption: string): RedisTlsOptions | undefined {
  if (value === undefined) return urlTls ? {} : undefined;
  if (value === false) {
    if (urlTls) throw new ConfigError(`\`tls\` is false but \`${urlOption}\` uses rediss:// (TLS); use redis:// or remove \`tls: false\`.`);
    return undefined;
  }
  if (urlTls === false) {
    throw new ConfigError(`\`tls\` is set but \`${urlOption}\` uses redis:// (no TLS); use rediss:// to connect with TLS.`);
  }
  if (value === true) return {};
  optionsObject(value, '`tls` must be true, false, or { ca, cert, key, servername, rejectUnauthorized }.');
  const tls = value;
  knownKeys(tls, TLS_OPTIONS, { path: 'tls.' });
  for (const key of ['ca', 'cert', 'key'] as const) {
    const pem = tls[key];
    if (pem !== undefined && typeof pem !== 'string' && !Buffer.isBuffer(pem)) {
      throw new ConfigError(`\`tls.${key}\` must be PEM text (a string or Buffer), e.g. fs.readFileSync('${key}.pem').`);
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new ConfigError('`tls.cert` and `tls.key` go together (a client certificate needs its private key); give both or neither.');
  }
  oneOf('tls.rejectUnauthorized', tls.rejectUnauthorized, [true, false], undefined, 'a boolean (default true)');
  optionalString('tls.servername', tls.servername);
  return tls as RedisTlsOptions;
}

function resolveBackoff(value: unknown): BackoffOptions {
  if (value === undefined) return { ...DEFAULT_BACKOFF };
  optionsObject(value, '`reconnect` must be an object: { initialDelayMs, maxDelayMs }.');
  knownKeys(value, ['initialDelayMs', 'maxDelayMs'], { path: 'reconnect.' });
  const initialDelayMs = wholeMs('reconnect.initialDelayMs', value.initialDelayMs, DEFAULT_BACKOFF.initialDelayMs, { max: MAX_TIMER_MS });
  const maxDelayMs = wholeMs('reconnect.maxDelayMs', value.maxDelayMs, Math.max(DEFAULT_BACKOFF.maxDelayMs, initialDelayMs), { max: MAX_TIMER_MS });
  if (initialDelayMs > maxDelayMs) {
    throw new ConfigError(`\`reconnect.initialDelayMs\` (${initialDelayMs}) is larger than \`reconnect.maxDelayMs\` (${maxDelayMs}); lower it or raise the cap.`);
  }
  return { initialDelayMs, maxDelayMs };
}

function resolveProbe(value: unknown): ProbeOptions | undefined {
  if (value === false) return undefined;
  if (value === undefined) return { ...DEFAULT_PROBE };
  optionsObject(value, '`probe` must be false (no probe) or an object: { intervalMs, timeoutMs }.');
  knownKeys(value, ['intervalMs', 'timeoutMs'], { path: 'probe.' });
  return {
    intervalMs: wholeMs('probe.intervalMs', value.intervalMs, DEFAULT_PROBE.intervalMs, { max: MAX_TIMER_MS }),
    timeoutMs: wholeMs('probe.timeoutMs', value.timeoutMs, DEFAULT_PROBE.timeoutMs, { max: MAX_TIMER_MS }),
  };
}

function assertClientLike(value: unknown): asserts value is NodeRedisClient {
  const client = value as Record<string, unknown> | null;
  if (typeof client !== 'object' || client === null || typeof client.connect !== 'function' || typeof client.on !== 'function') {
    throw new ConfigError(
      '`client` must be a node-redis client, cluster or sentinel (from createClient, createCluster or createSentinel of the `redis` package).',
    );
  }
}

function address(name: string, value: unknown): RedisNodeAddress {
  optionsObject(value, `\`${name}\` must be { host, port }, e.g. { host: "10.0.0.1", port: 6379 }.`);
  const node = value;
  knownKeys(node, ['host', 'port'], { path: `${name}.` });
  const host = optionalHost(`${name}.host`, node.host);
  const port = optionalPort(`${name}.port`, node.port);
  if (host === undefined || port === undefined) {
    throw new ConfigError(`\`${name}\` needs both \`host\` and \`port\`, e.g. { host: "10.0.0.1", port: 6379 }.`);
  }
  return { host, port };
}

function optionalHost(name: string, value: unknown): string | undefined {
  return optionalString(name, value, { must: 'a non-empty host name or address, e.g. "127.0.0.1"', valid: (host) => host.length > 0 });
}

function optionalPort(name: string, value: unknown): number | undefined {
  return wholeNumber(name, value, undefined, { max: 65_535, must: 'a TCP port number from 1 to 65535 (Redis uses 6379 by default)' });
}

function optionalDatabase(name: string, value: unknown): number | undefined {
  return wholeNumber(name, value, undefined, { min: 0, must: 'a database number, 0 or more (Redis has 16 by default: 0 to 15)' });
}

function isNonEmpty(value: string | undefined): value is string {
  return value !== undefined && value.length > 0;
}

