import type { RedisClientType } from 'redis';
import { formatAddress, type ResolvedRedisConfig } from './options.js';
import { scrubSecrets } from './redact.js';
import { describeError } from './startup-error.js';
import type { NodeRedisClient, RedisConnectionEvent, RedisNodeAddress, Topology } from './types.js';

/** The listener type of EventEmitter#on, which every node-redis client extends. */
type ClientListener = Parameters<RedisClientType['on']>[1];

export interface EventListeners {
  detach(): void;
  /** The last connection error seen, for the start-up error message. */
  lastError(): unknown;
  /** Resolves when the client reports it is ready. */
  ready(): Promise<void>;
}

/**
 * Listens to a client's connection events and reports them (secrets
 * scrubbed); `detach()` removes every listener again. An error for which
 * `unreported` is true is only kept for `lastError()`: the start-up error
 * that it ends start-up with says it already, in one line.
 */
export function watchEvents(
  client: NodeRedisClient,
  topology: Topology,
  config: ResolvedRedisConfig,
  report: (event: RedisConnectionEvent) => void,
  unreported: (error: unknown) => boolean = () => false,
): EventListeners {
  let lastError: unknown;
  let readyWaiters: Array<() => void> = [];
  const onError = (prefix: string) => (error: unknown) => {
    lastError = error;
    if (unreported(error)) return;
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
