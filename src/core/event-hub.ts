/**
 * One shared pub/sub connection per hub, reference-counted per channel: any
 * number of listeners on a channel cost one SUBSCRIBE, the last one to leave
 * sends the UNSUBSCRIBE, and the connection is closed when no channel is
 * left (opened again by the next listener). Why shared: a subscribed
 * connection can do nothing else, and one per listener (one per open
 * browser tab) would exhaust the server's connections.
 *
 * Where the connection comes from:
 * - a single server or a Sentinel-managed master: `client.duplicate()`, the
 *   same options (credentials, TLS, reconnect backoff) on a connection of
 *   its own;
 * - a Cluster: the cluster client itself, with sharded pub/sub
 *   (`sSubscribe`), which node-redis sends to the master of the channel's
 *   slot on a pub/sub connection it keeps per master.
 *
 * Pub/sub stores nothing: messages published while the connection was down
 * are gone. node-redis subscribes again on its own after a reconnect; the
 * hub then calls every listener's `gap()`, so that it re-reads whatever
 * state it shows instead of trusting that it saw every change.
 *
 * Operations are queued one after another, so a listener that leaves while
 * another joins the same channel never loses the subscription.
 */
import { StoreUnavailableError } from '../errors.js';
import { failFast } from '../redis/fail-fast.js';
import type { NodeRedisClient } from '../redis/types.js';

export interface ChannelListener {
  message(text: string): void;
  /** Messages may have been missed (the connection was lost and is back). */
  gap(): void;
}

export interface ChannelHub {
  /** Resolves once `channel` is subscribed; returns the function that removes this listener again. */
  add(channel: string, listener: ChannelListener): Promise<() => Promise<void>>;
  /** Unsubscribes everything and closes the connection; listeners are dropped silently. */
  close(): Promise<void>;
}

type MessageHandler = (message: string, channel: string) => void;

/** The part of a node-redis client (or of a cluster) that subscribes. */
interface Subscriber {
  subscribe(channel: string, handler: MessageHandler): Promise<unknown>;
  unsubscribe(channel: string, handler: MessageHandler): Promise<unknown>;
  /** Closes what the hub opened (nothing for a cluster, whose pub/sub connections node-redis closes with its last channel). */
  close(): Promise<void>;
}

interface Channel {
  listeners: Set<ChannelListener>;
  handler: MessageHandler;
}

interface EventSource {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * `failFastMs` bounds `add` like any library call: Redis unreachable or too
 * slow gives a `StoreUnavailableError`, an ACL without the channel a
 * `RedisPermissionError`. A subscription that completes after its caller
 * was given up on is undone.
 */
export function createChannelHub(client: NodeRedisClient, failFastMs: number): ChannelHub {
  const channels = new Map<string, Channel>();
  let subscriber: Subscriber | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  /** Runs `step` after every earlier operation of this hub. */
  const serial = <T>(step: () => Promise<T>): Promise<T> => {
    const run = queue.then(step, step);
    queue = run.catch(() => undefined);
    return run;
  };

  const gapAll = () => {
    for (const channel of channels.values()) for (const listener of [...channel.listeners]) safely(() => listener.gap());
  };

  const remove = (name: string, listener: ChannelListener) =>
    serial(async () => {
      const channel = channels.get(name);
      if (!channel || !channel.listeners.delete(listener) || channel.listeners.size > 0) return;
      channels.delete(name);
      const current = subscriber;
      if (!current) return;
      if (channels.size === 0) subscriber = undefined;
      // The connection may be down: the unsubscribe then fails, and closing forgets the subscription anyway.
      await current.unsubscribe(name, channel.handler).catch(() => undefined);
      if (channels.size === 0) await current.close().catch(() => undefined);
    });

  const addNow = async (name: string, listener: ChannelListener): Promise<() => Promise<void>> => {
    if (closed) throw new StoreUnavailableError('the Redis connection of this store was closed: no new subscription');
    const existing = channels.get(name);
    if (existing) {
      existing.listeners.add(listener);
    } else {
      subscriber ??= await openSubscriber(client, gapAll);
      const current = subscriber;
      const channel: Channel = {
        listeners: new Set([listener]),
        handler: (message) => {
          for (const each of [...channel.listeners]) safely(() => each.message(message));
        },
      };
      try {
        await current.subscribe(name, channel.handler);
      } catch (error) {
        // node-redis may keep the handler and subscribe it after a reconnect: take it back.
        await current.unsubscribe(name, channel.handler).catch(() => undefined);
        if (channels.size === 0) {
          subscriber = undefined;
          await current.close().catch(() => undefined);
        }
        throw error;
      }
      channels.set(name, channel);
    }
    let removed = false;
    return () => {
      if (removed) return Promise.resolve();
      removed = true;
      return remove(name, listener);
    };
  };

  return {
    add: (name, listener) => {
      let givenUp = false;
      const added = serial(() => addNow(name, listener));
      // Subscribed after the caller was told it failed: undo, or the listener would stay forever.
      added.then(
        (removeListener) => {
          if (givenUp) void removeListener();
        },
        () => undefined,
      );
      return failFast(() => added, failFastMs).catch((error: unknown) => {
        givenUp = true;
        throw error;
      });
    },
    close: () =>
      serial(async () => {
        closed = true;
        const left = [...channels];
        channels.clear();
        const current = subscriber;
        subscriber = undefined;
        if (!current) return;
        // On a cluster the subscriptions live on node-redis's own connections, which outlive the hub.
        await Promise.all(left.map(([name, channel]) => current.unsubscribe(name, channel.handler).catch(() => undefined)));
        await current.close().catch(() => undefined);
      }),
  };
}

/** A listener's exception must not stop the others, nor reach node-redis's message loop. */
function safely(call: () => void): void {
  try {
    call();
  } catch {
    // The listener's own failure; nothing the hub can do about it.
  }
}

async function openSubscriber(client: NodeRedisClient, onGap: () => void): Promise<Subscriber> {
  if ('nodeClient' in client) return clusterSubscriber(client, onGap);
  // A single client's and a sentinel's duplicates subscribe alike, but the unions of their overloads do not type-check as one.
  return connectionSubscriber(client.duplicate() as unknown as SubscribingClient, onGap, 'getSentinelNode' in client);
}

/** What the hub uses of a node-redis client (or a sentinel) of its own. */
interface SubscribingClient {
  connect(): Promise<unknown>;
  subscribe(channel: string, handler: MessageHandler): Promise<unknown>;
  unsubscribe(channel: string, handler: MessageHandler): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
}

/** A connection of its own (a single server's or a Sentinel-managed master's duplicate), opened here. */
async function connectionSubscriber(client: SubscribingClient, onGap: () => void, sentinel: boolean): Promise<Subscriber> {
  const events = client as unknown as EventSource;
  // The first 'ready' is the connect below; any later one is a reconnect, after which node-redis has subscribed again.
  let connected = false;
  // A connection error must never crash the process; node-redis reconnects on its own.
  // A Sentinel-managed client subscribes on a pub/sub connection of its own whose reconnects it does not
  // report, only its errors: each is taken as a possible gap (a spurious one only costs a re-read).
  const onError = () => {
    if (sentinel && connected) onGap();
  };
  const onReady = () => {
    if (connected) onGap();
  };
  events.on('error', onError);
  events.on('ready', onReady);
  try {
    await client.connect();
  } catch (error) {
    events.off('ready', onReady);
    client.destroy();
    throw error;
  }
  connected = true;
  return {
    subscribe: (channel, handler) => client.subscribe(channel, handler),
    unsubscribe: (channel, handler) => client.unsubscribe(channel, handler),
    close: async () => {
      connected = false;
      events.off('ready', onReady);
      try {
        await client.close();
      } catch {
        client.destroy();
      }
      // Late socket errors after the close stay swallowed: onError is left attached.
    },
  };
}

/**
 * A cluster: sharded subscriptions on the cluster client. node-redis keeps a
 * pub/sub connection per master and re-subscribes when it comes back; the
 * cluster reports that connection's reconnect as `node-reconnecting` then
 * `node-ready` (like any node client's), which is taken as a possible gap.
 * The data connection of the same master reports alike: its reconnect only
 * costs a spurious re-read. (Not covered: a failover that moves a slot to a
 * replica; node-redis moves the subscription, but the hub may not see a
 * reconnect of the same address.)
 */
function clusterSubscriber(client: Extract<NodeRedisClient, { nodeClient: unknown }>, onGap: () => void): Subscriber {
  const events = client as unknown as EventSource;
  const dropped = new Set<string>();
  const address = (info: unknown) => {
    const node = info as { host?: string; port?: number } | undefined;
    return `${node?.host ?? ''}:${node?.port ?? ''}`;
  };
  const onDown = (info: unknown) => {
    dropped.add(address(info));
  };
  const onReady = (info: unknown) => {
    if (dropped.delete(address(info))) onGap();
  };
  events.on('node-reconnecting', onDown);
  events.on('node-ready', onReady);
  return {
    subscribe: (channel, handler) => client.sSubscribe(channel, handler),
    unsubscribe: (channel, handler) => client.sUnsubscribe(channel, handler),
    close: async () => {
      events.off('node-reconnecting', onDown);
      events.off('node-ready', onReady);
    },
  };
}
