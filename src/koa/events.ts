import { PassThrough } from 'node:stream';
import type { Middleware } from 'koa';
import { resolveEventsOptions, streamAgentEvents, streamConnection, type AgentEventsOptions } from '../request/event-stream.js';

/**
 * Middleware that streams the request's own agent session's events as
 * server-sent events, mounted on the route of your choice after
 * `agentSession(app, ...)` (e.g. `router.get('/events', agentEvents())`).
 * Another user's session is answered 403 (and nothing is subscribed), Redis
 * unavailable 503, both by `agentSession`'s error answer (its `onError`);
 * no agent session yet 404 `{ "error": "no_agent_session" }`. It answers
 * every request it gets (it never calls `next`). See the README,
 * "Live updates: server-sent events".
 */
export function agentEvents(options?: AgentEventsOptions): Middleware {
  const config = resolveEventsOptions(options, 'agentEvents()');
  return async function agentEventsMiddleware(ctx) {
    const connection = streamConnection(ctx.req, ctx.res);
    const started = await streamAgentEvents(ctx.agent, config, {
      lastEventId: ctx.get('last-event-id') || undefined,
      begin(headers) {
        connection.keepOpen();
        const body = new PassThrough();
        // A write racing the client's departure (a heartbeat, an event) must not become an unhandled 'error'.
        body.on('error', () => undefined);
        // A client that leaves is how a stream normally ends: Koa's pipeline reports it to ctx.onerror (and so
        // to app.on('error') and the log) as a premature close or a reset socket. Those are dropped for this response.
        const reportError = ctx.onerror;
        ctx.onerror = (error) => {
          if (CLIENT_LEFT.has(String((error as { code?: unknown } | null)?.code))) return;
          reportError.call(ctx, error);
        };
        ctx.status = 200;
        ctx.set(headers);
        // Koa pipes it into the response once the middleware chain is done (the cookie session committed).
        ctx.body = body;
        return body;
      },
      onClose: connection.onClose,
      abort: connection.abort,
    });
    if (!started) {
      ctx.status = 404;
      ctx.body = { error: 'no_agent_session' };
    }
  };
}

/** How a stream's pipeline fails when the client went away. */
const CLIENT_LEFT = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE', 'ERR_STREAM_DESTROYED']);

export type { AgentEventsOptions };
