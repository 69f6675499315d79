import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { knownKeys, MAX_TIMER_MS, optionsObject, wholeMs, wholeNumber } from '../options.js';
import type { SessionEvent } from '../core/session-events.js';
import type { RequestAgent } from './request-agent.js';

/**
 * Server-sent events of the request's own agent session, for both adapters
 * (`agentEvents()` in agent-session/express and agent-session/koa): the
 * framing, the heartbeat, and the clean-up when the client goes away. The
 * adapters only say how to start the response and how to learn that the
 * connection closed.
 *
 * Events carry no content (see SessionEvent): a client reads what changed
 * through the app's own routes, where the binding rules apply again.
 */
export interface AgentEventsOptions {
  /**
   * A comment line (`: keep-alive`) is sent this often while nothing else is,
   * so proxies and load balancers that close idle connections leave the
   * stream open, and a dead client is noticed. Default 15 000 ms.
   */
  heartbeatMs?: number | undefined;
  /** The `retry:` field: how long the browser's EventSource waits before reconnecting. Default 2 000 ms. */
  retryMs?: number | undefined;
  /**
   * A client that reads nothing while events pile up in the response's
   * buffer beyond this many bytes is disconnected (it reconnects, and gets
   * `gap`, so it reads the state again): a stalled client costs bounded
   * memory. Default 262 144 (256 KiB).
   */
  maxBufferedBytes?: number | undefined;
}

export interface ResolvedEventsOptions {
  heartbeatMs: number;
  retryMs: number;
  maxBufferedBytes: number;
}

const DEFAULTS: ResolvedEventsOptions = { heartbeatMs: 15_000, retryMs: 2_000, maxBufferedBytes: 256 * 1024 };

export function resolveEventsOptions(options: unknown, where: string): ResolvedEventsOptions {
  if (options === undefined) return DEFAULTS;
  optionsObject(options, `${where} takes an options object, e.g. ${where.replace('()', '({ heartbeatMs: 15000 })')}.`);
  knownKeys(options, ['heartbeatMs', 'retryMs', 'maxBufferedBytes'], { what: where });
  return {
    heartbeatMs: wholeMs('heartbeatMs', options.heartbeatMs, DEFAULTS.heartbeatMs, { max: MAX_TIMER_MS }),
    retryMs: wholeMs('retryMs', options.retryMs, DEFAULTS.retryMs, { max: MAX_TIMER_MS }),
    maxBufferedBytes: wholeNumber('maxBufferedBytes', options.maxBufferedBytes, DEFAULTS.maxBufferedBytes, { min: 1024, unit: 'bytes' }),
  };
}

/** The response headers of an event stream. */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  // no-transform: compression middleware (compression, koa-compress) leaves the stream alone instead of buffering it.
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  // nginx buffers proxied responses by default; this asks it not to.
  'X-Accel-Buffering': 'no',
};

/** How an adapter's response is driven. */
export interface EventStreamResponse {
  /** The request's `Last-Event-ID` header, when the browser reconnects. */
  lastEventId: string | undefined;
  /** Sends the 200 with these headers; returns where the stream is written. Called at most once, only after the subscription succeeded. */
  begin(headers: Readonly<Record<string, string>>): Writable;
  /** Registers what to do when the client goes away (or the response ends); calls it at once if it has already. */
  onClose(callback: () => void): void;
  /** Drops the connection (a client that stopped reading). */
  abort(): void;
}

/** What both adapters do with Node's own request and response for a stream: the socket settings, the close, the abort. */
export function streamConnection(req: IncomingMessage, res: ServerResponse): Pick<EventStreamResponse, 'onClose' | 'abort'> & { keepOpen(): void } {
  return {
    keepOpen() {
      // An idle stream is not a timed-out request; Nagle would hold small events back.
      req.socket.setTimeout(0);
      req.socket.setNoDelay(true);
      req.socket.setKeepAlive(true);
    },
    onClose(callback) {
      // The response's close, not the request's: the request emits 'close' once its body is read.
      if (res.closed || req.socket.destroyed) return callback();
      res.once('close', callback);
    },
    abort: () => res.destroy(),
  };
}

/**
 * Streams the events of `agent`'s session to `response` until the client
 * goes away. Resolves with false, having sent nothing, when the request has
 * no agent session (none yet, or it expired): the adapter answers 404.
 * Rejects, having sent nothing and subscribed nothing, when the binding
 * refuses the request (`SessionUserMismatchError`) or Redis is unavailable
 * (`StoreUnavailableError`): the adapter answers them as for any route.
 * Resolves with true once streaming has started; clean-up (unsubscribing,
 * stopping the heartbeat) happens when the connection closes, or when the
 * session is deleted: then `deleted` is followed by a last `end` event and
 * the response ends.
 */
export async function streamAgentEvents(agent: RequestAgent, options: ResolvedEventsOptions, response: EventStreamResponse): Promise<boolean> {
  let closed = false;
  let out: Writable | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  // Events that arrive between the subscription and the first write: framed after `ready`, so ids keep increasing.
  const early: SessionEvent[] = [];
  let counter = 0;
  let lastAt = 0;

  const frame = (type: string, data: unknown, at: number): string => {
    // Ids increase along a connection: the event's time (Redis' clock for session events), then a counter.
    lastAt = Math.max(lastAt, at);
    counter += 1;
    return `id: ${lastAt}-${counter}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  };
  const write = (text: string): void => {
    if (closed || !out) return;
    out.write(text);
    if (out.writableLength > options.maxBufferedBytes) response.abort();
  };
  const cleanUp = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    // Nothing to report to: the client has gone. A failed UNSUBSCRIBE is the subscriber connection's to recover (it re-subscribes only what is still wanted).
    void unsubscribe?.().catch(() => undefined);
  };
  response.onClose(cleanUp);

  /** Writes one session event; after `deleted` there is nothing left to follow, so the stream ends (see finish). */
  const deliver = (event: SessionEvent): void => {
    write(frame(event.type, event, event.at));
    if (event.type === 'deleted') finish(event.sessionId, event.at);
  };
  /**
   * The session is gone: a last `end` event, then the response ends (and so
   * the subscription). A stream closed without it would be reopened by the
   * browser's EventSource `retry` ms later, and then answered 404; `end` lets
   * the page close its EventSource instead.
   */
  const finish = (id: string, at: number): void => {
    if (closed || !out) return;
    write(frame('end', { sessionId: id, reason: 'deleted' }, at));
    // (Not when that write overflowed the buffer: the connection is being dropped already.)
    if (!out.destroyed) out.end();
    cleanUp();
  };

  let sessionId: string | undefined;
  const subscription = await agent.subscribe(
    (event: SessionEvent) => {
      if (out) deliver(event);
      else if (!closed) early.push(event);
    },
    {
      // The subscriber connection re-subscribed after a reconnect: events may have been missed meanwhile.
      // (Before the first write there is nothing to tell: `ready` makes the client read the state anyway.)
      onGap: () => write(frame('gap', { sessionId }, Date.now())),
    },
  );
  if (subscription === null) {
    // Nothing was subscribed; the adapter answers 404 (unless the client has gone already).
    cleanUp();
    return false;
  }
  sessionId = subscription.sessionId;
  unsubscribe = subscription.unsubscribe;
  if (closed) {
    // The client left while the subscription was being made.
    void unsubscribe().catch(() => undefined);
    return true;
  }

  out = response.begin(EVENT_STREAM_HEADERS);
  // A client that reconnects with Last-Event-ID missed whatever happened while it was away: pub/sub keeps
  // nothing to replay, so it is told `gap` (read the state again) rather than `ready`; both carry the session id.
  const first = frame(response.lastEventId !== undefined ? 'gap' : 'ready', { sessionId: subscription.sessionId }, Date.now());
  out.write(`retry: ${options.retryMs}\n\n${first}`);
  for (const event of early.splice(0)) deliver(event);
  if (!closed) heartbeat = setInterval(() => write(': keep-alive\n\n'), options.heartbeatMs);
  return true;
}
