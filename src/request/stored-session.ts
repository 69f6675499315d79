import type { SessionData } from './agent-link.js';
import { NOT_A_STRING } from './cookie-session-redis.js';
import type { AgentSessionEvent } from './events.js';

/**
 * Reads a cookie session's value as stored in Redis. A value that is not a
 * JSON object, a key that is not a string at all (NOT_A_STRING), or a value
 * that the framework could not use (`usable`), is treated as no session: the request starts a fresh one, as after an expiry, instead of
 * failing with a 500. The key is reported so an operator can inspect it; the
 * value never is, not even a piece of it (it may hold tokens, and Node's
 * JSON.parse error message quotes the text around the error).
 */
export function parseStoredSession(
  raw: string | typeof NOT_A_STRING,
  key: string,
  log: (event: AgentSessionEvent) => void,
  usable: (data: SessionData) => boolean = () => true,
): SessionData | null {
  let value: unknown;
  try {
    value = raw === NOT_A_STRING ? undefined : JSON.parse(raw);
  } catch {
    value = undefined;
  }
  if (isRecord(value) && usable(value)) return value;
  log({
    type: 'warning',
    code: 'session_corrupt',
    key,
    message:
      `The cookie session stored at Redis key "${key}" is not a session agent-session wrote (another Redis type, not valid JSON, or not the expected shape); ` +
      'the request started a fresh session. The value is not logged; inspect or delete the key.',
  });
  return null;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
