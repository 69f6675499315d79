import type { AgentSessionEvent } from './events.js';

/** `true`: always Secure. `'auto'`: Secure when the request is https. `false`: never. */
export type SecureCookiePolicy = boolean | 'auto';

export interface CookieSecurity {
  /** Whether the cookie carries the Secure flag. */
  secure: boolean;
  /** False when the policy demands Secure but the request is plain http: browsers would drop the cookie, so it is not sent. */
  sendable: boolean;
}

/**
 * The Secure rule, as a pure function of the policy and whether this request
 * is https (as the framework reports it: `req.secure` in Express,
 * `ctx.secure` in Koa, both honouring the app's trust-proxy setting).
 */
export function cookieSecurity(policy: SecureCookiePolicy, requestIsHttps: boolean): CookieSecurity {
  if (policy === 'auto') return { secure: requestIsHttps, sendable: true };
  if (policy) return { secure: true, sendable: requestIsHttps };
  return { secure: false, sendable: true };
}

const WARNINGS = {
  secure_cookie_over_http:
    'A request came over plain http, so the Secure session cookie was not sent and sessions will not persist. ' +
    "Serve https; behind a proxy that terminates TLS, enable trust proxy (Express: app.set('trust proxy', 1); Koa: app.proxy = true); " +
    "for local development over http, set cookie: { secure: 'auto' }.",
  plain_cookie_over_http:
    "cookie.secure is 'auto' and a request came over plain http: the session cookie was sent without the Secure flag. " +
    'Fine for local development; in production serve https (and enable trust proxy behind a proxy) so the cookie is Secure.',
} as const;

/**
 * Reports, once per middleware instance, that a request's session cookie
 * could not be sent, or was sent without Secure, because the request was
 * plain http. Once, because it is a deployment problem, not a per-request one.
 */
export function createHttpWarning(policy: SecureCookiePolicy, log: (event: AgentSessionEvent) => void): (requestIsHttps: boolean) => void {
  const warned = new Set<keyof typeof WARNINGS>();
  return (requestIsHttps) => {
    if (requestIsHttps || policy === false) return;
    const code = policy === 'auto' ? 'plain_cookie_over_http' : 'secure_cookie_over_http';
    if (warned.has(code)) return;
    warned.add(code);
    log({ type: 'warning', code, message: WARNINGS[code] });
  };
}
