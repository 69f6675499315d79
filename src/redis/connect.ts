import { performance } from 'node:perf_hooks';
import type { RedisClientType } from 'redis';
import { ConfigError } from '../errors.js';
import { instrumentation } from '../instrumentation.js';
import { measureRedisClock } from './clock.js';
import { createOwnedClient, reconnectStrategy, topologyOf } from './client-factory.js';
import { createEventLog } from './event-log.js';
import { watchEvents } from './events.js';
import { warnAboutEviction } from './eviction-check.js';
import { probeHealth } from './health.js';
import { closeWithin, destroyQuietly, openWithin } from './lifecycle.js';
import { resolveConnectionOptions } from './options.js';
import { failFast } from './fail-fast.js';
import { startProbe } from './probe.js';
import { endsStartup, startupError } from './startup-error.js';
import { tlsMismatchHint } from './tls-probe.js';
import type { RedisConnection, RedisConnectionOptions } from './types.js';

/** The longest the TLS-mismatch question may add to a failed start-up. */
const TLS_PROBE_MS = 1_000;

/**
 * One node-redis connection for agent-session, whatever the topology: it is
 * created from options (or handed in by the app), waits for its first
 * `ready`, reconnects forever with capped backoff afterwards, fails commands
 * fast while Redis is unreachable, and reports its events, rate-limited and
 * without secrets, to a logger.
 */
export async function connectRedis(options: RedisConnectionOptions): Promise<RedisConnection> {
  const config = resolveConnectionOptions(options);
  const log = createEventLog({ sink: config.logger, intervalMs: config.logIntervalMs });
  // Metrics count every event (reconnects included), before the log's rate limit.
  const report: typeof log = (event) => {
    instrumentation?.connection(event.type);
    log(event);
  };
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
  const listeners = watchEvents(client, topology, config, report, (error) => owned && !startup.done && endsStartup(error, config));

  try {
    await openWithin(client, topology, config, startup.deadline, listeners);
  } catch (error) {
    if (owned) await destroyQuietly(client);
    listeners.detach();
    const lastError = listeners.lastError();
    // A server that never answered may speak the other protocol (TLS or not): ask it, briefly.
    const tlsHint =
      config.target.kind === 'standalone' && !endsStartup(lastError, config)
        ? await tlsMismatchHint(config.target.node, config.tls !== undefined, Math.min(config.connectTimeoutMs, TLS_PROBE_MS))
        : undefined;
    throw startupError(config, lastError, error, tlsHint);
  } finally {
    startup.done = true;
  }
  await warnAboutEviction(client, topology, config, report);
  // The first estimate of Redis's clock, for script deadlines (clock.ts); without it (TIME not allowed, say) scripts run without one.
  await failFast(() => measureRedisClock(client as { time(): Promise<unknown> }), config.failFastMs).catch(() => undefined);
  const probe = owned && topology === 'standalone' && config.probe ? startProbe(client as RedisClientType, config.probe, report) : undefined;

  let closed = false;
  return {
    client,
    owned,
    failFastMs: config.failFastMs,
    health: () => probeHealth(client, config.failFastMs, () => closed),
    close: async () => {
      if (closed) return;
      closed = true;
      probe?.stop();
      if (owned) await closeWithin(client, config.failFastMs);
      else listeners.detach();
    },
  };
}
