import type { ConnectionOptions } from 'node:tls';
import type { Pool, PoolConfig } from 'pg';
import { ConfigError } from '../errors.js';
import { knownKeys, optionsObject, wholeMs, wholeNumber } from '../options.js';

/**
 * The one place that turns `PgArchiveOptions` into a resolved config: every
 * option is checked once, defaults are filled in, and each mistake is a
 * `ConfigError` that names the option and the fix. The connection string is
 * parsed here only to check it; no message ever repeats it (it may hold a
 * password).
 */

/** Settings shared by both ways of connecting. */
export interface PgArchiveCommonOptions {
  /** The PostgreSQL schema holding the archive's tables. Default "agent_session". */
  schema?: string | undefined;
  /** Bound on reads (resume, history, listing, owner, setTitle), in ms, connecting included. Default 2000. */
  queryTimeoutMs?: number | undefined;
  /** Bound on writes (archiving batches, erase, each retention step), in ms. Default 10000. */
  writeTimeoutMs?: number | undefined;
}

/** The archive creates, owns and ends its pool. */
export interface PgArchiveConnectionOptions extends PgArchiveCommonOptions {
  /** `postgres://user:password@host:5432/database`. */
  connectionString: string;
  pool?: never;
  /** TLS, as node-postgres takes it: `true`, or `tls.connect` options (ca, cert, key, servername...). */
  ssl?: boolean | ConnectionOptions | undefined;
  /** Most connections the pool opens. Default 10. */
  max?: number | undefined;
}

/** The archive uses a pool of the app's and never ends it. */
export interface PgArchivePoolOptions extends PgArchiveCommonOptions {
  /** A node-postgres pool; give it an 'error' listener, as node-postgres asks of every pool. */
  pool: Pool;
  connectionString?: never;
  /** Set on your pool instead. */
  ssl?: never;
  /** Set on your pool instead. */
  max?: never;
}

/** How the archive reaches PostgreSQL: a connection string, or a pool of the app's. */
export type PgArchiveOptions = PgArchiveConnectionOptions | PgArchivePoolOptions;

export interface ArchiveConfig {
  /** The pool's config when the archive creates (and owns) it; absent for an app-supplied pool. */
  ownedPool?: PoolConfig;
  suppliedPool?: Pool;
  schema: string;
  queryTimeoutMs: number;
  writeTimeoutMs: number;
}

export const ARCHIVE_DEFAULTS = {
  schema: 'agent_session',
  queryTimeoutMs: 2_000,
  writeTimeoutMs: 10_000,
  max: 10,
} as const;

/** Named in `pg_stat_activity`, so an operator can tell the archive's connections apart. */
const APPLICATION_NAME = 'agent-session-archive';
const MAX_TIMEOUT_MS = 10 * 60 * 1000;
const MAX_POOL_SIZE = 1_000;

const KNOWN_OPTIONS = ['connectionString', 'pool', 'ssl', 'schema', 'queryTimeoutMs', 'writeTimeoutMs', 'max'];
/** Options that configure a pool the archive creates; meaningless with an app's pool. */
const OWNED_POOL_OPTIONS = ['ssl', 'max'] as const;
/** Connection-string parameters that set TLS (node-postgres lets them override the `ssl` option silently). */
const URL_TLS_PARAMETERS = ['ssl', 'sslmode', 'sslcert', 'sslkey', 'sslrootcert'];

const USAGE = 'createPgArchive({ connectionString: process.env.DATABASE_URL })';

export function resolveArchiveOptions(options: PgArchiveOptions): ArchiveConfig {
  optionsObject(options, `createPgArchive() needs an options object, e.g. ${USAGE}.`);
  knownKeys(options, KNOWN_OPTIONS, { what: 'createPgArchive()' });
  const queryTimeoutMs = wholeMs('queryTimeoutMs', options.queryTimeoutMs, ARCHIVE_DEFAULTS.queryTimeoutMs, { max: MAX_TIMEOUT_MS });
  const writeTimeoutMs = wholeMs('writeTimeoutMs', options.writeTimeoutMs, ARCHIVE_DEFAULTS.writeTimeoutMs, { max: MAX_TIMEOUT_MS });
  const common = { schema: checkSchema(options.schema), queryTimeoutMs, writeTimeoutMs };

  if (options.pool !== undefined) {
    if (options.connectionString !== undefined) {
      throw new ConfigError('Give either `pool` (a pg.Pool of your own) or `connectionString`, not both.');
    }
    const extra = OWNED_POOL_OPTIONS.filter((key) => options[key] !== undefined);
    if (extra.length > 0) {
      throw new ConfigError(
        `${extra.map((key) => `\`${key}\``).join(' and ')} configure a pool the archive creates; with \`pool\`, ` +
          `set them on your pg.Pool instead.`,
      );
    }
    if (typeof (options.pool as Partial<Pool> | null)?.connect !== 'function') {
      throw new ConfigError('`pool` must be a node-postgres pool (new pg.Pool({ ... })).');
    }
    return { ...common, suppliedPool: options.pool };
  }

  const connectionString = checkConnectionString(options.connectionString);
  const ssl = checkSsl(options.ssl, connectionString);
  return {
    ...common,
    ownedPool: {
      connectionString,
      ...(ssl === undefined ? {} : { ssl }),
      max: wholeNumber('max', options.max, ARCHIVE_DEFAULTS.max, { max: MAX_POOL_SIZE, unit: 'connections' }),
      // Bounds a connection attempt (TCP, TLS, authentication) and the wait
      // for a free client. Reads are bounded tighter by their own deadline;
      // this keeps a connect that hangs from holding a pool slot for longer.
      connectionTimeoutMillis: writeTimeoutMs,
      // Server-side guard: no statement of ours outlives the longest a caller
      // waits for it (migrations lift it for their own transaction).
      statement_timeout: writeTimeoutMs,
      // Detect a peer that vanished without closing the connection.
      keepAlive: true,
      application_name: APPLICATION_NAME,
    },
  };
}

/**
 * A plain lower-case identifier: it is written into SQL unquoted-safe (and
 * quoted anyway), so mixed case or punctuation would only invite surprises.
 * `pg_` names are reserved by PostgreSQL.
 */
export function checkSchema(value: unknown): string {
  if (value === undefined) return ARCHIVE_DEFAULTS.schema;
  if (typeof value !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(value) || value.startsWith('pg_')) {
    throw new ConfigError(
      '`schema` must be a lower-case PostgreSQL identifier of at most 63 characters (letters, digits, "_"; ' +
        `not starting with a digit or "pg_"), e.g. "${ARCHIVE_DEFAULTS.schema}".`,
    );
  }
  return value;
}

function checkConnectionString(value: unknown): string {
  if (value === undefined) {
    throw new ConfigError(`The archive needs \`connectionString\` or \`pool\`, e.g. ${USAGE}.`);
  }
  if (typeof value !== 'string' || value.length === 0) {
    throw new ConfigError('`connectionString` must be a non-empty string such as "postgres://user:password@host:5432/database".');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not repeated: a malformed string may still contain a password.
    throw new ConfigError('`connectionString` is not a valid URL; write it as "postgres://user:password@host:5432/database" (percent-encode special characters in the password).');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`\`connectionString\` must start with postgres:// or postgresql://; got "${url.protocol}//".`);
  }
  return value;
}

function checkSsl(value: unknown, connectionString: string): boolean | ConnectionOptions | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean' && (typeof value !== 'object' || value === null)) {
    throw new ConfigError('`ssl` must be true, false, or an object of tls.connect options (e.g. { ca: fs.readFileSync("ca.pem") }).');
  }
  const inUrl = URL_TLS_PARAMETERS.filter((name) => new URL(connectionString).searchParams.has(name));
  if (inUrl.length > 0) {
    throw new ConfigError(
      `\`ssl\` is set, and so is ${inUrl.map((name) => `"${name}"`).join(', ')} in \`connectionString\`, which node-postgres ` +
        'would let win silently. Configure TLS in one place: drop `ssl`, or drop those parameters from the URL.',
    );
  }
  return value as boolean | ConnectionOptions;
}
