import { StoreUnavailableError } from '../errors.js';
import type { ResolvedRedisConfig } from './options.js';
import { scrubSecrets } from './redact.js';

/**
 * `connectRedis` gave up at start-up. A `StoreUnavailableError` (code
 * STORE_UNAVAILABLE) whose message says where it tried and how to fix it;
 * nothing keeps reconnecting in the background.
 */
export class RedisStartupError extends StoreUnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.message = message;
  }
}

/** Start-up ran out of time (the message is built by `startupError`). */
export class StartupTimeout extends Error {}

/**
 * The one-line start-up failure: where it tried, the last error (secrets
 * scrubbed) and the fix. `tlsHint` (from tls-probe.ts) names a TLS mismatch
 * the errors themselves do not show.
 */
export function startupError(config: ResolvedRedisConfig, lastError: unknown, failure: unknown, tlsHint?: string): RedisStartupError {
  const cause = lastError ?? (failure instanceof StartupTimeout ? undefined : failure);
  if (config.target.kind === 'standalone' && isRefused(cause)) {
    return new RedisStartupError(
      `Could not connect to ${config.description}: connection refused (${scrubSecrets(describeError(cause), config.secrets)}), nothing listens there. ${START_REDIS_HINT}`,
      { cause },
    );
  }
  const reason = cause === undefined ? '' : ` (last error: ${scrubSecrets(describeError(cause), config.secrets)})`;
  const within = `within ${config.connectTimeoutMs} ms`;
  if (config.target.kind === 'supplied') {
    return new RedisStartupError(
      `The app-supplied Redis client did not become ready ${within}${reason}. Check that it can reach Redis, or raise \`connectTimeoutMs\`.`,
      { cause },
    );
  }
  const fix = tlsHint ?? permanentFailureHint(cause) ?? START_REDIS_HINT;
  return new RedisStartupError(`Could not connect to ${config.description} ${within}${reason}. ${fix}`, { cause });
}

export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') {
    return error.errors.map(describeError).join('; ');
  }
  if (error instanceof Error) return error.message || error.constructor.name;
  return String(error);
}

const START_REDIS_HINT =
  'Start redis-server there, or point agent-session at your Redis with the `url` option (for example from the REDIS_URL environment variable).';

/**
 * Whether `error` ends start-up at once instead of being retried until
 * `connectTimeoutMs`: a failure retrying cannot cure (credentials,
 * certificates), or a single server refusing the connection, where nothing
 * listens and a wait would only delay the same answer. (A cluster keeps
 * retrying: its root nodes may still be coming up one by one.) After
 * start-up, every error is retried.
 */
export function endsStartup(error: unknown, config: Pick<ResolvedRedisConfig, 'target'>): boolean {
  return permanentFailureHint(error) !== undefined || (config.target.kind === 'standalone' && isRefused(error));
}

function isRefused(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
}

/** For failures that retrying cannot cure (credentials, certificates): what to fix. */
export function permanentFailureHint(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (/^(WRONGPASS|NOAUTH|NOPERM)\b/.test(error.message)) {
    return 'Check `username`/`password` (the ACL user must exist, be enabled and have this password).';
  }
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (/CERT|SELF_SIGNED|HOSTNAME|ERR_SSL|ERR_TLS/.test(code)) {
    return 'Check the `tls` options: `ca` must hold the CA that signed the server certificate, and the host or `servername` must match it.';
  }
  return undefined;
}
