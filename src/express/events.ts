import type { RequestHandler } from 'express';
import { isAgentSessionHttpError } from '../request/http-errors.js';
import { resolveEventsOptions, streamAgentEvents, streamConnection, type AgentEventsOptions } from '../request/event-stream.js';
import { agentSessionErrorHandler } from './middleware.js';

/**
 * A route handler that streams the request's own agent session's events as
 * server-sent events: `app.get('/events', agentEvents())`, after
 * `agentSession()`. Another user's session is answered 403 (and nothing is
 * subscribed), Redis unavailable 503, both as the middleware answers them
 * (its `onError`); no agent session yet 404 `{ "error": "no_agent_session" }`.
 * See the README, "Live updates: server-sent events".
 */
export function agentEvents(options?: AgentEventsOptions): RequestHandler {
  const config = resolveEventsOptions(options, 'agentEvents()');
  const answerError = agentSessionErrorHandler();
  return function agentEventsHandler(req, res, next) {
    const connection = streamConnection(req, res);
    const streaming = Promise.resolve().then(() =>
      streamAgentEvents(req.agent, config, {
        lastEventId: req.get('last-event-id'),
        begin(headers) {
          connection.keepOpen();
          res.writeHead(200, headers);
          return res;
        },
        onClose: connection.onClose,
        abort: connection.abort,
      }),
    );
    streaming.then(
      (started) => {
        if (!started && !res.headersSent) res.status(404).json({ error: 'no_agent_session' });
      },
      (error: unknown) => {
        if (res.headersSent) return;
        if (isAgentSessionHttpError(error)) return answerError(error, req, res, next);
        next(error);
      },
    );
  };
}

export type { AgentEventsOptions };
