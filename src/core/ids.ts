import { randomBytes } from 'node:crypto';
import { InvalidInputError, InvalidSessionIdError } from '../errors.js';
import type { IdempotentWriteOptions } from './types.js';

/**
 * Ids end up inside Redis keys and hash fields, so only a conservative,
 * URL-safe charset is accepted: no `{` `}` (they would move the key to another
 * Cluster hash slot), no `:` (our key separator), no `*` or spaces (glob and
 * protocol surprises), no control characters.
 */
const SAFE_ID = /^[A-Za-z0-9_-]+$/;
export const MAX_ID_LENGTH = 128;

/** 192 random bits, base64url: 32 characters, unguessable. */
export function generateId(): string {
  return randomBytes(24).toString('base64url');
}

/** Throws `InvalidSessionIdError` unless `id` is safe to place in a key. */
export function assertValidId(id: unknown, what = 'agent session id'): asserts id is string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new InvalidSessionIdError(`The ${what} must be a non-empty string.`);
  }
  if (id.length > MAX_ID_LENGTH) {
    throw new InvalidSessionIdError(`The ${what} is ${id.length} characters long; at most ${MAX_ID_LENGTH} are allowed.`);
  }
  if (!SAFE_ID.test(id)) {
    throw new InvalidSessionIdError(
      `The ${what} may contain only letters, digits, "-" and "_" (no "*", "{", "}", ":", spaces or control characters). ` +
        `Omit the id to let agent-session generate one.`,
    );
  }
}

/** Letters, digits and `-_.:`, 1-128 characters: a UUID, a ULID, a client's message id. */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The idempotency key of a write ('' for none), checked before anything is sent. */
export function checkedIdempotencyKey(options: IdempotentWriteOptions | undefined): string {
  if (options === undefined || options === null) return '';
  if (typeof options !== 'object') throw new InvalidInputError('The options of a write must be an object, e.g. { idempotencyKey: messageId }.');
  const key = options.idempotencyKey;
  if (key === undefined) return '';
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
    throw new InvalidInputError(
      '`idempotencyKey` must be 1-128 characters of letters, digits, "-", "_", "." or ":" (a UUID, for example); nothing was written.',
    );
  }
  return key;
}
