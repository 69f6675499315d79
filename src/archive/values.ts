/**
 * Values on their way into and out of PostgreSQL.
 *
 * PostgreSQL's `text` and `jsonb` cannot hold U+0000, which Redis and
 * JavaScript strings can: one such character would make a whole batch fail
 * on every retry and stall the session's archiving for good. The archive
 * stores it as U+FFFD (the replacement character) instead, in text columns
 * and inside JSON alike; this is the only way an archived value can differ
 * from what Redis held.
 */

const NUL = '\u0000';
const REPLACEMENT = '\uFFFD';
/** `\u0000` in JSON text, when its backslash is not itself escaped (`\\u0000` is a backslash and "u0000"). */
const JSON_NUL_ESCAPE = /(?<!\\)((?:\\\\)*)\\u0000/g;

/** A string as a `text` column can hold it. */
export function storableText(value: string): string {
  return value.includes(NUL) ? value.replaceAll(NUL, REPLACEMENT) : value;
}

export function storableOptionalText(value: string | undefined): string | null {
  return value === undefined ? null : storableText(value);
}

/**
 * A value as JSON text for a `jsonb` column; `undefined` (absent) becomes SQL
 * NULL, which reads back as absent, while JSON `null` stays JSON `null`.
 */
export function storableJson(value: unknown): string | null {
  if (value === undefined) return null;
  const json = JSON.stringify(value);
  // JSON.stringify answers undefined for functions and symbols: nothing storable.
  if (json === undefined) return null;
  return json.includes('\\u0000') ? json.replace(JSON_NUL_ESCAPE, '$1\\ufffd') : json;
}

/**
 * node-postgres hands `bigint` columns over as strings (a bigint may exceed
 * 2^53). Ours hold milliseconds and sequence numbers, far below that.
 */
export function fromBigint(value: string | number): number {
  return typeof value === 'number' ? value : Number(value);
}

export function fromOptionalBigint(value: string | number | null): number | undefined {
  return value === null ? undefined : fromBigint(value);
}

/** The database's clock in ms since the epoch, as SQL: for tombstones and retention. */
export const SQL_NOW_MS = `floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;
