import { ConfigError } from './errors.js';

/**
 * The helpers every option resolver is written with (connection, store,
 * request layer, observer worker), so that one kind of option follows one
 * rule wherever it appears and every mistake reads the same way:
 * "`<option>` must be <what is accepted>; got <what was given>." The
 * resolvers add the knowledge of their own options (defaults, limits, the
 * example that shows the fix).
 *
 * A leaf module: it imports only the errors, so every layer, the Redis
 * connection at the bottom included, may use it.
 *
 * Conventions:
 * - An option left out (`undefined`) takes its default; any other value,
 *   `null` included, must be valid.
 * - Messages repeat a number that was given, never a string: a string in
 *   the wrong place may be a password or a secret.
 */

/** The longest delay a Node timer can wait; a longer one fires at once (with a TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2_147_483_647;

function fail(name: string, must: string): ConfigError {
  return new ConfigError(`\`${name}\` must be ${must}.`);
}

/** What was given, for a message: numbers as they are, anything else by its type only. */
function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export interface WholeNumberRule {
  /** Default 1. */
  min?: number;
  /** Default `Number.MAX_SAFE_INTEGER`. */
  max?: number;
  /** What is counted, for the message: "milliseconds", "bytes"... */
  unit?: string;
  /** Replaces the generated "a whole number from ... to ..." when the option has a better explanation (a TCP port, say). */
  must?: string;
}

/** A whole number within `min`..`max`; `fallback` when left out. */
export function wholeNumber(name: string, value: unknown, fallback: number, rule?: WholeNumberRule): number;
export function wholeNumber(name: string, value: unknown, fallback: undefined, rule?: WholeNumberRule): number | undefined;
export function wholeNumber(name: string, value: unknown, fallback: number | undefined, rule: WholeNumberRule = {}): number | undefined {
  if (value === undefined) return fallback;
  const { min = 1, max = Number.MAX_SAFE_INTEGER, unit } = rule;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    const must = rule.must ?? `a whole number${unit ? ` of ${unit}` : ''}, ${range}${fallback !== undefined ? ` (default ${fallback})` : ''}`;
    throw fail(name, `${must}; got ${describe(value)}`);
  }
  return value;
}

/**
 * A duration: whole milliseconds, like every duration agent-session takes
 * (Redis' PX and PEXPIRE take whole milliseconds, and so does a deadline we
 * want to reason about). At least 1 unless `min` says otherwise. A duration
 * the library waits out with a timer takes `max: MAX_TIMER_MS`, so that a
 * huge value is refused here rather than firing at once.
 */
export function wholeMs(name: string, value: unknown, fallback: number, range: Pick<WholeNumberRule, 'min' | 'max'> = {}): number {
  return wholeNumber(name, value, fallback, { ...range, unit: 'milliseconds' });
}

export interface StringRule {
  /** What is accepted, for the message. Default "a string". */
  must?: string;
  /** Further checks beyond being a string. */
  valid?: (value: string) => boolean;
}

/** A string, or `undefined` when left out; never repeated in a message (it may be a password). */
export function optionalString(name: string, value: unknown, rule: StringRule = {}): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || (rule.valid !== undefined && !rule.valid(value))) throw fail(name, rule.must ?? 'a string');
  return value;
}

/** One of a few allowed values (`'strict' | 'lax' | 'none'`, a boolean); `fallback` when left out. */
export function oneOf<const T>(name: string, value: unknown, allowed: readonly T[], fallback: T, must: string): T;
export function oneOf<const T>(name: string, value: unknown, allowed: readonly T[], fallback: undefined, must: string): T | undefined;
export function oneOf<const T>(name: string, value: unknown, allowed: readonly T[], fallback: T | undefined, must: string): T | undefined {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw fail(name, must);
  return value as T;
}

/** The loosest function type that a caller's own function type can be checked against. */
type AnyFunction = (...args: never[]) => unknown;

/** A callback the app must supply. `must` shows its shape, e.g. "a function (error, ctx) that answers the request". */
export function requiredFunction<F extends AnyFunction>(name: string, value: unknown, must: string): F {
  if (typeof value !== 'function') throw fail(name, must);
  return value as F;
}

/** A callback the app may supply; `undefined` when left out. */
export function optionalFunction<F extends AnyFunction>(name: string, value: unknown, must: string): F | undefined {
  return value === undefined ? undefined : requiredFunction<F>(name, value, must);
}

/** A plain options object (not null, not an array); `message` says what a correct call looks like. */
export function optionsObject(value: unknown, message: string): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(message);
}

/**
 * Rejects keys that are not options: a misspelt option would otherwise be
 * silently ignored and its default used. `what` names the entry point
 * ("Redis connection", "createAgentStore()"); `path` is the prefix of a
 * nested object's keys ("tls.").
 */
export function knownKeys(options: object, known: readonly string[], where: { what?: string; path?: string } = {}): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const option = `\`${where.path ?? ''}${key}\``;
    const sameLetters = known.find((candidate) => candidate.toLowerCase() === key.toLowerCase());
    throw new ConfigError(
      `Unknown ${where.what ? `${where.what} ` : ''}option ${option}.` +
        (sameLetters ? ` Did you mean \`${where.path ?? ''}${sameLetters}\`?` : '') +
        ` Known options: ${known.join(', ')}.`,
    );
  }
}
