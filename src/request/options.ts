import { SessionStore } from '../core/agent-store.js';
import { resolveIdleTimeoutMs, type AgentStoreOptions, type StoreArchiveOptions } from '../core/config.js';
import { ConfigError } from '../errors.js';
import { knownKeys, oneOf, optionalFunction, optionalString, optionsObject, wholeNumber } from '../options.js';
import type { RedisConnection } from '../redis/types.js';
import { cookieSessionRedis, type CookieSessionRedis } from './cookie-session-redis.js';
import type { AgentSessionEvent } from './events.js';
import { boundedUserOf, resolveMaxSessionBytes, resolveMaxUserIdBytes } from './input-limits.js';
import type { SecureCookiePolicy } from './secure-cookie.js';

/**
 * The options both adapters share, and the one place they are checked and
 * defaulted. The Express and Koa entry points add only what is specific to
 * their framework (the Express `secret`, each one's error hook).
 */

export interface SessionCookieOptions {
  /** Cookie name. Default "agent.sid". */
  name?: string | undefined;
  /**
   * Default `true`: the cookie carries the Secure flag and is only sent over
   * https. `'auto'`: Secure when the request is https (as the app's
   * trust-proxy setting reports it), plain otherwise: for local development
   * over http. `false`: never Secure (not for production).
   */
  secure?: SecureCookiePolicy | undefined;
  /** Default 'strict'. 'none' requires `secure: true`. */
  sameSite?: 'strict' | 'lax' | 'none' | undefined;
  /** Default true: scripts in the page cannot read the cookie. */
  httpOnly?: boolean | undefined;
  /** Default: the request's host only. */
  domain?: string | undefined;
  /** Default '/'. */
  path?: string | undefined;
}

/** The store's options the middleware passes on as they are (documented on `AgentStoreOptions`). */
type StoreOptionsPassedOn = Pick<AgentStoreOptions, 'maxTurns' | 'maxToolCalls' | 'idempotencyTtlMs' | 'maxIdempotencyKeys' | 'limits' | 'observerQueue'>;

export interface AgentSessionOptionsBase<Request> extends StoreOptionsPassedOn {
  /**
   * The Redis connection from `connectRedis()`. The cookie sessions and the
   * agent state share it: one connection pool per app.
   */
  redis: Pick<RedisConnection, 'client' | 'failFastMs'>;
  /**
   * The authenticated user of a request, or null/undefined when anonymous.
   * An agent session is bound to the first user that writes to it; a
   * `req.agent` / `ctx.agent` call by anyone else gets 403, and the state is
   * neither read nor written (its TTL is not refreshed either). Routes that
   * do not use the agent are served as usual.
   * Default: every request is anonymous.
   */
  getUserId?: ((request: Request) => string | null | undefined) | undefined;
  /**
   * Longest user id `getUserId` may return, in UTF-8 bytes: a longer one is
   * refused with `InvalidInputError` (400 `input_invalid`) wherever the
   * request uses it, and nothing is written. Default 256.
   */
  maxUserIdBytes?: number | undefined;
  /**
   * Largest cookie session stored, as JSON, in UTF-8 bytes: a request that
   * leaves a larger one is answered 413 `payload_too_large`
   * (`AgentPayloadTooLargeError`) and nothing is stored (the session stays as it
   * was). Default 64 KiB.
   */
  maxSessionBytes?: number | undefined;
  /**
   * Inactivity after which the cookie session and the agent state expire.
   * Every request with a valid session resets it; it is also the cookie's
   * max age. Default 1 h.
   */
  idleTimeoutMs?: number | undefined;
  /** Prefix of every Redis key (cookie sessions under `<prefix>sess:`). Default "agent:". */
  keyPrefix?: string | undefined;
  /**
   * Prefix of the cookie-session keys only. Default `<keyPrefix>sess:`. For
   * an app moving from connect-redis or koa-redis: their prefix (connect-redis
   * "sess:", koa-redis "koa:sess:" by default), so the sessions they wrote
   * are read, and users stay logged in across the switch.
   */
  sessionKeyPrefix?: string | undefined;
  /**
   * The cold tier, as `createAgentStore()` takes it: every change is also
   * queued for the archiver (`createArchiver()`) to copy into PostgreSQL, and
   * `req.agent` / `ctx.agent` gain `resume(id)`, `history()` and
   * `conversations()`. An agent session that left Redis while its cookie
   * session lived on is restored from the archive on its next write.
   * `{ tier: createPgArchive({ connectionString }) }` (agent-session/archive).
   */
  archive?: StoreArchiveOptions | undefined;
  /** Session events, as `createAgentStore()` takes it: one event per change (default true); false publishes none. */
  events?: boolean | undefined;
  cookie?: SessionCookieOptions | undefined;
  /** The `Retry-After` of a 503 (Redis or the archive unavailable, a full archive backlog), in seconds. Default 2. */
  retryAfterSeconds?: number | undefined;
  /** Receives warnings and errors that have no response to go to, and debug events. Default: one `console.warn` line per warning or error; debug events dropped. */
  logger?: ((event: AgentSessionEvent) => void) | undefined;
}

export interface ResolvedCookie {
  name: string;
  secure: SecureCookiePolicy;
  sameSite: 'strict' | 'lax' | 'none';
  httpOnly: boolean;
  domain?: string;
  path: string;
}

export interface MiddlewareConfig<Request> {
  agents: SessionStore;
  redis: CookieSessionRedis;
  /** Prefix of the cookie-session keys. */
  sessionPrefix: string;
  idleTimeoutMs: number;
  cookie: ResolvedCookie;
  /** Normalised: null for an anonymous request, never undefined (undefined would skip the user check). */
  userOf: (request: Request) => string | null;
  maxSessionBytes: number;
  retryAfterSeconds: number;
  log: (event: AgentSessionEvent) => void;
}

export const DEFAULT_RETRY_AFTER_SECONDS = 2;

const SHARED_OPTIONS = ['redis', 'getUserId', 'maxUserIdBytes', 'maxSessionBytes', 'idleTimeoutMs', 'keyPrefix', 'sessionKeyPrefix', 'maxTurns', 'maxToolCalls', 'idempotencyTtlMs', 'maxIdempotencyKeys', 'limits', 'observerQueue', 'archive', 'events', 'cookie', 'retryAfterSeconds', 'logger'];
const COOKIE_OPTIONS = ['name', 'secure', 'sameSite', 'httpOnly', 'domain', 'path'];
/** RFC 6265 token characters, so the name needs no quoting in any browser. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function resolveMiddlewareOptions<Request>(
  options: AgentSessionOptionsBase<Request>,
  entryPoint: string,
  frameworkOptions: readonly string[],
): MiddlewareConfig<Request> {
  optionsObject(options, `${entryPoint} needs an options object with at least \`redis\`, the connection from \`await connectRedis({ url })\`.`);
  knownKeys(options, [...SHARED_OPTIONS, ...frameworkOptions], { what: entryPoint });
  // The store's own rule, checked here too because the cookie's max age is this timeout.
  const idleTimeoutMs = resolveIdleTimeoutMs(options.idleTimeoutMs);
  // The store checks redis, keyPrefix, maxTurns, limits and archive by the same rules as createAgentStore().
  const agents = new SessionStore({
    redis: options.redis,
    keyPrefix: options.keyPrefix,
    idleTimeoutMs,
    maxTurns: options.maxTurns,
    maxToolCalls: options.maxToolCalls,
    idempotencyTtlMs: options.idempotencyTtlMs,
    maxIdempotencyKeys: options.maxIdempotencyKeys,
    limits: options.limits,
    observerQueue: options.observerQueue,
    archive: options.archive,
    events: options.events,
  });
  const maxUserIdBytes = resolveMaxUserIdBytes(options.maxUserIdBytes);
  const getUserId = optionalFunction<(request: Request) => string | null | undefined>(
    'getUserId',
    options.getUserId,
    'a function of the request that returns the user id (or null when anonymous)',
  );
  const logger =
    optionalFunction<(event: AgentSessionEvent) => void>('logger', options.logger, 'a function that receives { type, code, message } events') ??
    ((event: AgentSessionEvent) => {
      if (event.type !== 'debug') console.warn(`[agent-session] ${event.message}`);
    });
  return {
    agents,
    redis: cookieSessionRedis(options.redis),
    sessionPrefix:
      optionalString('sessionKeyPrefix', options.sessionKeyPrefix, {
        must:
          'a non-empty string of at most 64 characters without "{", "}" or spaces, e.g. "sess:" (connect-redis\'s default): ' +
          'the cookie-session key must hash on its id\'s own {tag}, its agent session\'s Cluster slot',
        valid: (prefix) => prefix.length > 0 && prefix.length <= 64 && !/[{}\s]/.test(prefix),
      }) ?? `${agents.keyPrefix}sess:`,
    idleTimeoutMs,
    cookie: resolveCookie(options.cookie),
    userOf: getUserId ? boundedUserOf(getUserId, maxUserIdBytes) : () => null,
    maxSessionBytes: resolveMaxSessionBytes(options.maxSessionBytes),
    retryAfterSeconds: wholeNumber('retryAfterSeconds', options.retryAfterSeconds, DEFAULT_RETRY_AFTER_SECONDS, { max: 3_600, unit: 'seconds' }),
    log: (event) => {
      try {
        logger(event);
      } catch {
        // A throwing logger must not turn a warning into a failed request.
      }
    },
  };
}

function resolveCookie(cookie: SessionCookieOptions | undefined = {}): ResolvedCookie {
  optionsObject(cookie, '`cookie` must be an object, e.g. { secure: "auto" }.');
  knownKeys(cookie, COOKIE_OPTIONS, { what: 'cookie', path: 'cookie.' });
  const name =
    optionalString('cookie.name', cookie.name, {
      must: 'a non-empty cookie token (letters, digits and !#$%&\'*+-.^_`|~), e.g. "agent.sid"',
      valid: (value) => COOKIE_NAME.test(value),
    }) ?? 'agent.sid';
  const secure = oneOf('cookie.secure', cookie.secure, [true, 'auto', false], true, "true (default), 'auto' (Secure only over https: for local development) or false");
  const sameSite = oneOf('cookie.sameSite', cookie.sameSite, ['strict', 'lax', 'none'], 'strict', "'strict' (default), 'lax' or 'none'");
  if (sameSite === 'none' && secure !== true) {
    throw new ConfigError("`cookie.sameSite: 'none'` needs `cookie.secure: true`: browsers drop SameSite=None cookies that are not Secure.");
  }
  const httpOnly = oneOf('cookie.httpOnly', cookie.httpOnly, [true, false], true, 'a boolean (default true)');
  const path =
    optionalString('cookie.path', cookie.path, { must: 'a path starting with "/" (default "/")', valid: (value) => value.startsWith('/') }) ?? '/';
  const domain = optionalString('cookie.domain', cookie.domain, {
    must: 'a domain name such as "example.com", or left out for the request host only',
    valid: (value) => value.length > 0,
  });
  return { name, secure, sameSite, httpOnly, path, ...(domain !== undefined ? { domain } : {}) };
}

/** How to make a good secret, for the messages below. */
const MAKE_A_SECRET =
  `Generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))" ` +
  'and pass it from the environment (never commit it).';
export const MIN_SECRET_LENGTH = 32;

/**
 * Checks cookie-signing secrets: at least one, each at least 32 characters.
 * The first signs new cookies; all of them verify, so a new secret can be
 * put first while cookies signed with the old one stay valid. Messages name
 * the position and length of a bad secret, never its value.
 */
export function resolveSecrets(value: unknown, how: { name: string; example: string }): string[] {
  if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) {
    throw new ConfigError(
      `${how.name} is required: the session cookie is signed with it, so a forged cookie is refused. ${MAKE_A_SECRET} ` +
        `Example: ${how.example}. To rotate, list the new secret first and keep the old one after it until old cookies have expired.`,
    );
  }
  const secrets = Array.isArray(value) ? value : [value];
  secrets.forEach((secret: unknown, index) => {
    const which = Array.isArray(value) ? `${how.name}[${index}]` : how.name;
    if (typeof secret !== 'string') throw new ConfigError(`${which} must be a string. ${MAKE_A_SECRET}`);
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new ConfigError(
        `${which} is ${secret.length} characters long; at least ${MIN_SECRET_LENGTH} are needed so that it cannot be guessed. ${MAKE_A_SECRET}`,
      );
    }
  });
  return secrets as string[];
}
