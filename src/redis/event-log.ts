import type { RedisConnectionEvent } from './types.js';

/**
 * Connection events on their way to the app's logger. During a long outage
 * node-redis reports an error on every reconnect attempt; this keeps the log
 * readable: the first event of each kind is passed on at once, then at most
 * one per `intervalMs`.
 */
export interface EventLogOptions {
  /** Receives the events that pass the rate limit. */
  sink: (event: RedisConnectionEvent) => void;
  /** Minimum time between two passed-on events of the same type; 0 passes everything. */
  intervalMs: number;
  /** Injected clock (milliseconds), so tests need not wait for real time. */
  now?: () => number;
}

/**
 * Returns the function to report events to. The rules, which bound the volume
 * to a few lines per `intervalMs` whatever the server does:
 * - each event type has its own window: once an event of a type is passed on,
 *   further events of that type within `intervalMs` are dropped;
 * - warnings always pass (each is raised once, by design);
 * - a `ready` also passes inside its window when an `error` or `reconnecting`
 *   was passed on since the last `ready`: a reported outage always gets its
 *   reported recovery;
 * - a passed-on `error` carries `suppressed`, the number of errors dropped
 *   since the previous passed-on error.
 * A sink that throws is ignored: logging must never break reconnection.
 */
export function createEventLog(options: EventLogOptions): (event: RedisConnectionEvent) => void {
  const now = options.now ?? Date.now;
  const lastPassed = new Map<RedisConnectionEvent['type'], number>();
  let droppedErrors = 0;
  let troubleReported = false;

  const pass = (event: RedisConnectionEvent): void => {
    if (event.type === 'error' || event.type === 'reconnecting') troubleReported = true;
    if (event.type === 'ready') troubleReported = false;
    try {
      options.sink(event);
    } catch {
      // see above
    }
  };

  return (event) => {
    if (event.type === 'warning') return pass(event);
    const at = now();
    const last = lastPassed.get(event.type);
    const inWindow = last !== undefined && at - last < options.intervalMs;
    if (inWindow && !(event.type === 'ready' && troubleReported)) {
      if (event.type === 'error') droppedErrors += 1;
      return;
    }
    lastPassed.set(event.type, at);
    if (event.type === 'error' && droppedErrors > 0) {
      pass({ ...event, suppressed: droppedErrors });
      droppedErrors = 0;
      return;
    }
    pass(event);
  };
}

/** One line of text for an event, without a prefix. */
export function describeEvent(event: RedisConnectionEvent): string {
  switch (event.type) {
    case 'connect':
      return 'Redis: connected, authenticating';
    case 'ready':
      return 'Redis: connection ready';
    case 'reconnecting':
      return `Redis: reconnecting (attempt ${event.attempt}, in ${event.delayMs} ms)`;
    case 'error':
      return `Redis connection error: ${event.message}` + (event.suppressed ? ` (${event.suppressed} more since the last one shown)` : '');
    case 'warning':
      return `Redis: ${event.message}`;
  }
}

/**
 * The logger used when the app passes none: quiet while all is well, one
 * `console.warn` line per (rate-limited) problem, and one when the
 * connection is back after a problem.
 */
export function createConsoleLogger(write: (line: string) => void = (line) => console.warn(line)): (event: RedisConnectionEvent) => void {
  let troubled = false;
  return (event) => {
    if (event.type === 'connect') return;
    if (event.type === 'ready') {
      if (!troubled) return;
      troubled = false;
      return write('[agent-session] Redis: connection restored');
    }
    if (event.type !== 'warning') troubled = true;
    write(`[agent-session] ${describeEvent(event)}`);
  };
}
