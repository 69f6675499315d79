import { AgentSessionError, ArchiveQueryError, ArchiveUnavailableError } from '../errors.js';

/**
 * Turns whatever node-postgres (or the socket under it) threw into one of
 * the two archive errors, keeping only what is safe to log: a Node error
 * code, a SQLSTATE, or a fixed phrase of ours. The driver's message is never
 * copied and the driver's error is never attached as `cause`: it can repeat
 * the connection target, and for data errors a fragment of a stored value.
 */

/** Socket-level failures: the server is down, unreachable, or went away. */
const UNAVAILABLE_ERRNO = /^(ECONNREFUSED|ECONNRESET|ECONNABORTED|EPIPE|ETIMEDOUT|EHOSTUNREACH|EHOSTDOWN|ENETUNREACH|ENETDOWN|ENOTFOUND|EAI_AGAIN)$/;

/** node-postgres's own connection failures, which carry no code: its fixed messages, and what we report instead. */
const UNAVAILABLE_MESSAGES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^timeout exceeded when trying to connect/, 'no free connection in time'],
  [/^Connection terminated due to connection timeout/, 'connect timeout'],
  [/^Connection terminated/, 'connection closed'],
  [/^Query read timeout/, 'no answer'],
  [/is not queryable/, 'connection lost'],
  [/^Cannot use a pool after calling end/, 'pool ended'],
  [/^The server does not support SSL connections/, 'server does not offer TLS'],
];

/**
 * SQLSTATEs that mean "not able to serve right now": connection exceptions
 * (08), insufficient resources (53), operator intervention such as a
 * shutdown or our own statement_timeout (57), system errors (58), and the
 * transaction rollbacks (40) that a retry resolves. Retrying later can work,
 * so they are reported as unavailability.
 */
const TRANSIENT_SQLSTATE = /^(08|53|57|58|40)/;

/** A TLS certificate or handshake problem (Node's codes for them), reported by code. */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_|CERT_)/;

/**
 * The error PostgreSQL itself answered with (node-postgres's DatabaseError),
 * recognised by shape: an app-supplied pool may come from another copy of pg.
 */
function sqlStateOf(error: Error): string | undefined {
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof severity === 'string' ? code : undefined;
}

/**
 * `boundMs` is the bound the failed call ran under (for the message);
 * `schema` names the schema in hints.
 */
export function toArchiveError(error: unknown, boundMs: number, schema: string): AgentSessionError {
  if (error instanceof AgentSessionError) return error;
  if (!(error instanceof Error)) return new ArchiveQueryError(`${typeof error} thrown, not an Error.`);

  const sqlState = sqlStateOf(error);
  if (sqlState !== undefined) {
    if (TRANSIENT_SQLSTATE.test(sqlState)) return new ArchiveUnavailableError(boundMs, `SQLSTATE ${sqlState}`);
    return new ArchiveQueryError(hintFor(sqlState, schema), sqlState);
  }

  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && (UNAVAILABLE_ERRNO.test(code) || TLS_CODE.test(code))) {
    return new ArchiveUnavailableError(boundMs, code);
  }
  for (const [pattern, reason] of UNAVAILABLE_MESSAGES) {
    if (pattern.test(error.message)) return new ArchiveUnavailableError(boundMs, reason);
  }
  return new ArchiveQueryError(`${error.constructor.name} from node-postgres (its message is left out, as it may quote values).`);
}

function hintFor(sqlState: string, schema: string): string {
  switch (sqlState) {
    case '42P01':
    case '3F000':
      return `the archive's tables are missing from schema "${schema}" (SQLSTATE ${sqlState}). Call archive.migrate() once (at deploy time or start-up) before using it.`;
    case '42501':
      return `the database user lacks a privilege on schema "${schema}" (SQLSTATE 42501). Grant it USAGE on the schema and SELECT, INSERT, UPDATE, DELETE on its tables, or run migrate() as that user.`;
    case '3D000':
      return 'the database named in the connection does not exist (SQLSTATE 3D000). Create it, or fix the database name.';
  }
  if (sqlState.startsWith('28')) {
    return `PostgreSQL refused the credentials (SQLSTATE ${sqlState}). Check the user and password of the connection.`;
  }
  if (sqlState.startsWith('22') || sqlState.startsWith('23')) {
    return `PostgreSQL refused a value (SQLSTATE ${sqlState}); the values are left out of this message.`;
  }
  return `PostgreSQL answered with SQLSTATE ${sqlState}; its message is left out, as it may quote values.`;
}
