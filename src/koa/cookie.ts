import type { Context } from 'koa';
import type { ResolvedCookie } from '../request/options.js';
import { cookieSecurity } from '../request/secure-cookie.js';

/**
 * Reads and writes the signed session-id cookie for koa-session (its
 * `externalKey` hook), so the Secure rule is agent-session's, as in Express:
 * Koa's cookie library throws when a Secure cookie is set on a plain http
 * request; express-session silently leaves the cookie out. Here, too, the
 * cookie is left out (and the middleware has warned once), and `'auto'`
 * follows `ctx.secure`, which honours `app.proxy`.
 *
 * Signing uses `app.keys` (Keygrip): the first key signs, every key verifies,
 * and a cookie verified with an older key is re-signed with the first.
 */
export function sessionIdCookie(cookie: ResolvedCookie): { get(ctx: Context): string; set(ctx: Context, sessionId: string): void } {
  return {
    // An empty string makes koa-session start a fresh session: no cookie, or a bad signature.
    get: (ctx) => ctx.cookies.get(cookie.name, { signed: true }) ?? '',
    set: (ctx, sessionId) => {
      const { secure, sendable } = cookieSecurity(cookie.secure, ctx.secure);
      if (!sendable) return;
      const maxAge = ctx.sessionOptions?.maxAge;
      ctx.cookies.set(cookie.name, sessionId, {
        signed: true,
        secure,
        httpOnly: cookie.httpOnly,
        sameSite: cookie.sameSite,
        path: cookie.path,
        overwrite: true,
        ...(typeof maxAge === 'number' ? { maxAge } : {}),
        ...(cookie.domain !== undefined ? { domain: cookie.domain } : {}),
      });
    },
  };
}
