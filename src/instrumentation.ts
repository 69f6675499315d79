/**
 * The library's measuring points, for `agent-session/metrics`. Each layer
 * reports what it alone sees (a script call and its latency, a fail-fast
 * timeout, a connection event, a request's outcome, an observer run, an
 * archived batch, a restore) to the sink installed here, and to nothing
 * when none is: the cost of an unused point is one `undefined` check.
 * Nothing here knows prom-client; src/metrics turns the reports into
 * Prometheus metrics.
 *
 * A leaf module (it imports nothing), so every layer, the Redis connection
 * at the bottom included, may report. The sink is per process, as a
 * Prometheus scrape of a process is: every store, middleware and worker of
 * the process reports into it.
 *
 * What is reported carries no session id, user id or stored content, only
 * names from fixed lists (script names, error codes, outcomes) and numbers,
 * so the metrics built on it have a bounded number of series.
 */
export interface InstrumentationSink {
  /** A Lua script call settled after `seconds`; `error` is what it failed with, undefined on success. */
  script(name: string, seconds: number, error: unknown): void;
  /** A Redis call hit the fail-fast bound (`failFastMs`) without a reply. */
  timeout(): void;
  /** A connection event of a connectRedis() connection, before the logger's rate limit. */
  connection(type: 'connect' | 'ready' | 'reconnecting' | 'error' | 'warning'): void;
  /** A request entered the Express or Koa middleware; `response` emits 'close' once it is over. */
  requestStarted(response: ClosingResponse): void;
  /** The middleware (or `agentSessionErrorHandler()`) answered the request of `response` with one of its errors instead of the route's answer. */
  requestRefused(error: unknown, response: ClosingResponse): void;
  /** Notes were read (`notes()`, `snapshot()`): how many turns they miss. */
  notesRead(lagTurns: number): void;
  /** An observer run ended with `outcome` (see `RunOutcome`) after `seconds`. */
  observerRun(kind: string, outcome: string, seconds: number): void;
  /** The archiver copied one batch of a session's backlog (records of kind 'turn', 'tool', 'notes'). */
  archived(records: ReadonlyArray<{ kind: string }>): void;
  /** The archiver failed (PostgreSQL or Redis, or one session's bad backlog); it retries. */
  archiveError(): void;
  /** A conversation came back from the cold tier (`resume()` that restored) after `seconds`. */
  restored(seconds: number): void;
}

/** Node's http.ServerResponse, as far as a request's outcome is concerned. */
export interface ClosingResponse {
  once(event: 'close', listener: () => void): unknown;
}

/** The installed sink; undefined while no metrics are registered. Read it at each point (a live binding). */
export let instrumentation: InstrumentationSink | undefined;

const sinks = new Set<InstrumentationSink>();

/** Installs a sink; returns the function that removes it again. Several sinks each receive every report. */
export function addInstrumentation(sink: InstrumentationSink): () => void {
  sinks.add(sink);
  rebuild();
  return () => {
    sinks.delete(sink);
    rebuild();
  };
}

function rebuild(): void {
  const all = [...sinks];
  if (all.length <= 1) {
    instrumentation = all[0];
    return;
  }
  instrumentation = {
    script: (...args) => all.forEach((sink) => sink.script(...args)),
    timeout: () => all.forEach((sink) => sink.timeout()),
    connection: (type) => all.forEach((sink) => sink.connection(type)),
    requestStarted: (response) => all.forEach((sink) => sink.requestStarted(response)),
    requestRefused: (error, response) => all.forEach((sink) => sink.requestRefused(error, response)),
    notesRead: (lag) => all.forEach((sink) => sink.notesRead(lag)),
    observerRun: (...args) => all.forEach((sink) => sink.observerRun(...args)),
    archived: (records) => all.forEach((sink) => sink.archived(records)),
    archiveError: () => all.forEach((sink) => sink.archiveError()),
    restored: (seconds) => all.forEach((sink) => sink.restored(seconds)),
  };
}
