import { InvalidInputError, StoreUnavailableError } from '../errors.js';
import type { RedisCommandClient } from '../redis/client.js';
import { createChannelHub, type ChannelHub } from './event-hub.js';
import type { NodeRedisClient } from '../redis/types.js';
import { assertValidId } from './ids.js';

/**
 * Session events: every change to an agent session is announced on the
 * session's channel by the Lua script that makes it (lua/includes/events.lua);
 * this module is the receiving side. See the README's "Session events".
 */

/** Every type of change a session publishes, in one list (the type and the run-time check both come from it). */
const EVENT_TYPE_NAMES = [
  'created',
  'turn_appended',
  'meta_updated',
  'tool_call_started',
  'tool_call_completed',
  'tool_call_failed',
  'notes_written',
  'observer_error',
  'observation_queued',
  'deleted',
  'restored',
] as const;

export type SessionEventType = (typeof EVENT_TYPE_NAMES)[number];

/**
 * What changed, never the content: read the session (subject to its user
 * binding) for that. `seq`: the appended turn's (turn_appended) or the last
 * turn the notes cover (notes_written); `callId`: the tool call's
 * (tool_call_*); `at`: Redis server time of the change, in ms.
 */
export interface SessionEvent {
  sessionId: string;
  type: SessionEventType;
  seq?: number;
  callId?: string;
  at: number;
}

/** Yielded by `events()` after the subscriber connection came back: events may have been missed, re-read the state. */
export interface SessionEventGap {
  type: 'gap';
}

export interface SubscribeOptions {
  /** Called after a reconnect of the subscriber connection: events may have been missed. */
  onGap?: (() => void) | undefined;
  /** Aborting it unsubscribes (as calling the returned function does). */
  signal?: AbortSignal | undefined;
}

const EVENT_TYPES: ReadonlySet<string> = new Set(EVENT_TYPE_NAMES);

/** The channel a session's events are published on; the same hash slot as its keys (see keys.ts). */
export function sessionEventsChannel(prefix: string, id: string): string {
  return `${prefix}{${id}}:events`;
}

/** A published message as an event, or undefined for anything else (never thrown: a stray PUBLISH must not break listeners). */
export function parseSessionEvent(text: string): SessionEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { sessionId, type, seq, callId, at } = value as Record<string, unknown>;
  if (typeof sessionId !== 'string' || typeof type !== 'string' || !EVENT_TYPES.has(type) || typeof at !== 'number') return undefined;
  const event: SessionEvent = { sessionId, type: type as SessionEventType, at };
  if (typeof seq === 'number') event.seq = seq;
  if (typeof callId === 'string') event.callId = callId;
  return event;
}

/** One hub per Redis client: every store on one connection shares one subscriber connection. */
const hubs = new WeakMap<object, ChannelHub>();

function hubOf(client: RedisCommandClient, failFastMs: number): ChannelHub {
  const existing = hubs.get(client);
  if (existing) return existing;
  const redis = client as unknown as NodeRedisClient;
  if (typeof (redis as { duplicate?: unknown }).duplicate !== 'function' && !('nodeClient' in redis)) {
    throw new InvalidInputError('Session events need a node-redis client (a connection from connectRedis()) to subscribe with.');
  }
  const hub = createChannelHub(redis, failFastMs);
  hubs.set(client, hub);
  // The app closed its connection: close the subscriber too, so nothing keeps the process alive.
  const emitter = redis as unknown as { once?(event: string, listener: () => void): unknown };
  const onClosed = () => {
    if (hubs.get(client) === hub) hubs.delete(client);
    void hub.close();
  };
  emitter.once?.('nodeClient' in redis ? 'disconnect' : 'end', onClosed);
  return hub;
}

/** `AgentStore.subscribe`, for a store's client and key prefix. */
export async function subscribeToSession(
  { client, failFastMs }: { client: RedisCommandClient; failFastMs: number },
  prefix: string,
  sessionId: string,
  listener: (event: SessionEvent) => void,
  options: SubscribeOptions = {},
): Promise<() => Promise<void>> {
  assertValidId(sessionId);
  if (typeof listener !== 'function') throw new InvalidInputError('subscribe(sessionId, listener) needs a listener function.');
  const { signal, onGap } = options ?? {};
  if (onGap !== undefined && typeof onGap !== 'function') throw new InvalidInputError('`onGap` must be a function (called when events may have been missed).');
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidInputError('`signal` must be an AbortSignal.');
  const noop = () => Promise.resolve();
  if (signal?.aborted) return noop;
  // A closed connection (the app's close()) is not reopened behind the app's back by a duplicate.
  if ((client as { isOpen?: unknown }).isOpen === false) {
    throw new StoreUnavailableError('the Redis connection of this store was closed: no new subscription');
  }
  const remove = await hubOf(client, failFastMs).add(sessionEventsChannel(prefix, sessionId), {
    message: (text) => {
      const event = parseSessionEvent(text);
      if (event && event.sessionId === sessionId) listener(event);
    },
    gap: () => onGap?.(),
  });
  if (!signal) return remove;
  const onAbort = () => void remove();
  signal.addEventListener('abort', onAbort, { once: true });
  // Aborted while the SUBSCRIBE was on its way.
  if (signal.aborted) await remove();
  return () => {
    signal.removeEventListener('abort', onAbort);
    return remove();
  };
}

/** Most events `events()` holds for a consumer that does not read them; past it they give way to one gap. */
export const MAX_BUFFERED_EVENTS = 1_000;

/** `AgentStore.events`: the same subscription as an async iterable, ended by the signal (or by leaving the loop). */
export function sessionEvents(
  redis: { client: RedisCommandClient; failFastMs: number },
  prefix: string,
  sessionId: string,
  options: { signal?: AbortSignal | undefined } = {},
): AsyncIterable<SessionEvent | SessionEventGap> {
  assertValidId(sessionId);
  const { signal } = options;
  return {
    [Symbol.asyncIterator](): AsyncIterator<SessionEvent | SessionEventGap> {
      const buffered: Array<SessionEvent | SessionEventGap> = [];
      let wake: (() => void) | undefined;
      let done = false;
      const notify = () => {
        const resume = wake;
        wake = undefined;
        resume?.();
      };
      const push = (item: SessionEvent | SessionEventGap) => {
        if (done) return;
        // A consumer that stopped reading must not grow memory without bound: what it did not read becomes one gap.
        if (buffered.length >= MAX_BUFFERED_EVENTS) {
          buffered.length = 0;
          buffered.push({ type: 'gap' });
        }
        buffered.push(item);
        notify();
      };
      const finish = () => {
        done = true;
        notify();
      };
      signal?.addEventListener('abort', finish, { once: true });
      const subscribed = signal?.aborted
        ? Promise.resolve(() => Promise.resolve())
        : subscribeToSession(redis, prefix, sessionId, push, { onGap: () => push({ type: 'gap' }) });
      // A failed subscribe is thrown by next(); until then it must not count as unhandled.
      subscribed.catch(() => undefined);
      const end = async (): Promise<IteratorResult<SessionEvent | SessionEventGap>> => {
        done = true;
        buffered.length = 0;
        signal?.removeEventListener('abort', finish);
        await (await subscribed.catch(() => () => Promise.resolve()))();
        return { done: true, value: undefined };
      };
      if (signal?.aborted) done = true;
      return {
        async next() {
          // Subscribe errors surface on the first next().
          await subscribed;
          for (;;) {
            if (done) return end();
            const item = buffered.shift();
            if (item) return { done: false, value: item };
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          }
        },
        return: end,
      };
    },
  };
}
