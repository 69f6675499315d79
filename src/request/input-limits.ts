import { InvalidInputError, AgentPayloadTooLargeError } from '../errors.js';
import { wholeNumber } from '../options.js';

/**
 * The bounds of what a request can make the middleware write: the user id
 * `getUserId` returns (it goes into every script call and is stored in the
 * agent session) and the cookie session (stored for the idle timeout). An
 * unauthenticated request can set both (a /login that stores what it was
 * sent), so both are checked before anything reaches Redis.
 */

export const INPUT_LIMIT_DEFAULTS = {
  maxUserIdBytes: 256,
  maxSessionBytes: 64 * 1024,
} as const;

/** The largest bounds accepted: a user id of 64 KiB, a cookie session of 64 MiB. */
const MAX_USER_ID_BYTES = 64 * 1024;
const MAX_SESSION_BYTES = 64 * 1024 * 1024;

export function resolveMaxUserIdBytes(value: unknown): number {
  return wholeNumber('maxUserIdBytes', value, INPUT_LIMIT_DEFAULTS.maxUserIdBytes, { max: MAX_USER_ID_BYTES, unit: 'bytes' });
}

export function resolveMaxSessionBytes(value: unknown): number {
  return wholeNumber('maxSessionBytes', value, INPUT_LIMIT_DEFAULTS.maxSessionBytes, { max: MAX_SESSION_BYTES, unit: 'bytes' });
}

/**
 * `getUserId` with its answer checked: a string of at most `maxBytes` UTF-8
 * bytes, or null. A longer one is `InvalidInputError` (400): the message
 * gives its size, never its text.
 */
export function boundedUserOf<Request>(getUserId: (request: Request) => string | null | undefined, maxBytes: number): (request: Request) => string | null {
  return (request) => {
    const user = getUserId(request) ?? null;
    if (typeof user === 'string' && user.length * 3 > maxBytes) {
      const bytes = Buffer.byteLength(user, 'utf8');
      if (bytes > maxBytes) {
        throw new InvalidInputError(
          `The user id from getUserId is ${bytes} bytes, over the limit of ${maxBytes} bytes; nothing was written. ` +
            'Check user ids before storing them in the session (at login), or raise `maxUserIdBytes` in the agent-session options.',
        );
      }
    }
    return user;
  };
}

/** The refusal of a cookie session `value` (as it would be stored) over `maxBytes`, or undefined when it fits. */
export function oversizedSession(value: string, maxBytes: number): AgentPayloadTooLargeError | undefined {
  // A UTF-8 byte is at least one UTF-16 unit and at most three: most values are decided without counting.
  if (value.length * 3 <= maxBytes) return undefined;
  const bytes = Buffer.byteLength(value, 'utf8');
  return bytes > maxBytes ? new AgentPayloadTooLargeError('The cookie session', bytes, maxBytes, 'maxSessionBytes') : undefined;
}
