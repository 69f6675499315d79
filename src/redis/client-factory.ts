import { performance } from 'node:perf_hooks';
import { createClient, createCluster, createSentinel } from 'redis';
import { reconnectDelay } from './backoff.js';
import type { ResolvedRedisConfig } from './options.js';
import { endsStartup } from './startup-error.js';
import type { NodeRedisClient, RedisConnectionEvent, RedisNodeAddress, Topology } from './types.js';

/**
 * Builds the node-redis client of a connection agent-session owns, with the
 * settings that make it fail fast and reconnect forever.
 */

export /**
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
    // A wrong password or an untrusted certificate will not fix itself, and a
    // refused connection means nothing listens there: fail start-up now.
    if (!startup.done && endsStartup(cause, config)) return cause;
    let delayMs = reconnectDelay(failures, config.reconnect);
    // During start-up, never sleep past the deadline, so that nothing is left
    // waiting once connectRedis has given up.
    if (!startup.done) delayMs = Math.max(0, Math.min(delayMs, Math.ceil(startup.deadline - performance.now())));
    report({ type: 'reconnecting', attempt: failures + 1, delayMs });
    return delayMs;
  };
}

export function createOwnedClient(config: ResolvedRedisConfig, strategy: ReturnType<typeof reconnectStrategy>): NodeRedisClient {
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
