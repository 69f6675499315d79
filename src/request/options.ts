import { SessionStore } from '../core/agent-store.js';
import { positiveInteger, STORE_DEFAULTS, type AgentStoreLimits } from '../core/config.js';
import { ConfigError } from '../errors.js';
import type { RedisConnection } from '../redis/types.js';
import { cookieSessionRedis, type CookieSessionRedis } from './cookie-session-redis.js';
import type { AgentSessionEvent } from './events.js';
import type { SecureCookiePolicy } from './secure-cookie.js';

/**
 * The options both adapters share, and the one place they are checked and
 * defaulted. The Express and Koa entry points add only what is specific to
 * their framework (the Express `secret`, each one's error hook).
 */

export interface SessionCookieOptions {
  /** Cookie name. Default "agent.sid". */
  name?: string;
  /**
   * Default `true`: the cookie carries the Secure flag and is only sent over
   * https. `'auto'`: Secure when the request is https (as the app's
   * trust-proxy setting reports it), plain otherwise: for local development
   * over http. `false`: never Secure (not for production).
   */
  secure?: SecureCookiePolicy;
  /** Default 'strict'. 'none' requires `secure: true`. */
  sameSite?: 'strict' | 'lax' | 'none';
  /** Default true: scripts in the page cannot read the cookie. */
  httpOnly?: boolean;
  /** Default: the request's host only. */
  domain?: string;
  /** Default '/'. */
  path?: string;
}

export interface AgentSessionOptionsBase<Request> {
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
  getUserId?: (request: Request) => string | null | undefined;
  /**
   * Inactivity after which the cookie session and the agent state expire.
   * Every request with a valid session resets it; it is also the cookie's
   * max age. Default 1 h.
   */
  idleTimeoutMs?: number;
  /** Prefix of every Redis key (cookie sessions under `<prefix>sess:`). Default "agent:". */
  keyPrefix?: string;
  /** How many of the newest turns an agent session keeps. Default 50. */
  maxTurns?: number;
  limits?: AgentStoreLimits;
  cookie?: SessionCookieOptions;
  /** The `Retry-After` of a 503 while Redis is unavailable, in seconds. Default 2. */
  retryAfterSeconds?: number;
  /** Receives warnings and errors that have no response to go to, and debug events. Default: one `console.warn` line per warning or error; debug events dropped. */
  logger?: (event: AgentSessionEvent) => void;
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
  retryAfterSeconds: number;
  log: (event: AgentSessionEvent) => void;
}

export const DEFAULT_RETRY_AFTER_SECONDS = 2;

const SHARED_OPTIONS = ['redis', 'getUserId', 'idleTimeoutMs', 'keyPrefix', 'maxTurns', 'limits', 'cookie', 'retryAfterSeconds', 'logger'];
const COOKIE_OPTIONS = new Set(['name', 'secure', 'sameSite', 'httpOnly', 'domain', 'path']);
/** RFC 6265 token characters, so the name needs no quoting in any browser. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function resolveMiddlewareOptions<Request>(
  options: AgentSessionOptionsBase<Request>,
  entryPoint: string,
  frameworkOptions: readonly string[],
): MiddlewareConfig<Request> {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError(`${entryPoint} needs an options object with at least \`redis\`, the connection from \`await connectRedis({ url })\`.`);
  }
  const known = new Set([...SHARED_OPTIONS, ...frameworkOptions]);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new ConfigError(`Unknown ${entryPoint} option \`${key}\`. Known options: ${[...known].join(', ')}.`);
  }
  const idleTimeoutMs = positiveInteger('idleTimeoutMs', options.idleTimeoutMs, STORE_DEFAULTS.idleTimeoutMs);
  // The core validates redis, keyPrefix, maxTurns and limits with its own teaching errors.
  const agents = new SessionStore({
    redis: options.redis,
    keyPrefix: options.keyPrefix,
    idleTimeoutMs,
    maxTurns: options.maxTurns,
    limits: options.limits,
  });
  const getUserId = options.getUserId;
  if (getUserId !== undefined && typeof getUserId !== 'function') {
    throw new ConfigError('`getUserId` must be a function of the request that returns the user id (or null when anonymous).');
  }
  if (options.logger !== undefined && typeof options.logger !== 'function') {
    throw new ConfigError('`logger` must be a function that receives { type, code, message } events.');
  }
  const logger =
    options.logger ??
    ((event: AgentSessionEvent) => {
      if (event.type !== 'debug') console.warn(`[agent-session] ${event.message}`);
    });
  return {
    agents,
    redis: cookieSessionRedis(options.redis),
    sessionPrefix: `${agents.keyPrefix}sess:`,
    idleTimeoutMs,
    cookie: resolveCookie(options.cookie),
    userOf: getUserId ? (request) => getUserId(request) ?? null : () => null,
    retryAfterSeconds: positiveInteger('retryAfterSeconds', options.retryAfterSeconds, DEFAULT_RETRY_AFTER_SECONDS, 3_600),
    log: (event) => {
      try {
        logger(event);
      } catch {
        // A throwing logger must not turn a warning into a failed request.
      }
    },
  };
}

function resolveCookie(cookie: SessionCookieOptions | undefined): ResolvedCookie {
  if (cookie === undefined) cookie = {};
  if (typeof cookie !== 'object' || cookie === null) throw new ConfigError('`cookie` must be an object, e.g. { secure: "auto" }.');
  for (const key of Object.keys(cookie)) {
    if (!COOKIE_OPTIONS.has(key)) throw new ConfigError(`Unknown cookie option \`cookie.${key}\`. Known: ${[...COOKIE_OPTIONS].join(', ')}.`);
  }
  const name = cookie.name ?? 'agent.sid';
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) {
    throw new ConfigError('`cookie.name` must be a non-empty cookie token (letters, digits and !#$%&\'*+-.^_`|~), e.g. "agent.sid".');
  }
  const secure = cookie.secure ?? true;
  if (secure !== true && secure !== false && secure !== 'auto') {
    throw new ConfigError("`cookie.secure` must be true (default), 'auto' (Secure only over https: for local development) or false.");
  }
  const sameSite = cookie.sameSite ?? 'strict';
  if (sameSite !== 'strict' && sameSite !== 'lax' && sameSite !== 'none') {
    throw new ConfigError("`cookie.sameSite` must be 'strict' (default), 'lax' or 'none'.");
  }
  if (sameSite === 'none' && secure !== true) {
    throw new ConfigError("`cookie.sameSite: 'none'` needs `cookie.secure: true`: browsers drop SameSite=None cookies that are not Secure.");
  }
  const httpOnly = cookie.httpOnly ?? true;
  if (typeof httpOnly !== 'boolean') throw new ConfigError('`cookie.httpOnly` must be a boolean (default true).');
  const path = cookie.path ?? '/';
  if (typeof path !== 'string' || !path.startsWith('/')) throw new ConfigError('`cookie.path` must be a path starting with "/" (default "/").');
  if (cookie.domain !== undefined && (typeof cookie.domain !== 'string' || cookie.domain.length === 0)) {
    throw new ConfigError('`cookie.domain` must be a domain name such as "example.com", or left out for the request host only.');
  }
  return { name, secure, sameSite, httpOnly, path, ...(cookie.domain !== undefined ? { domain: cookie.domain } : {}) };
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
