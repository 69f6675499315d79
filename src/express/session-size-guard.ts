import type { Request, Response } from 'express';
import type { AgentPayloadTooLargeError } from '../errors.js';
import { oversizedSession } from '../request/input-limits.js';

/**
 * Answers 413 for a request that leaves its cookie session over
 * `maxSessionBytes`. The store refuses to write such a session anyway
 * (store.ts), but express-session saves only once the response is being
 * sent, too late to change its status: so the size is checked when the
 * route ends the response, before express-session sees it, and the route's
 * answer is replaced by the refusal. A response already under way
 * (`res.write` before `end`) cannot be replaced; the session is still not
 * stored, and the failed save is logged.
 *
 * Only a session this request changed is checked (as express-session saves
 * only those): one stored before the limit was lowered is left to expire,
 * and the user is not locked out by it.
 */
export function guardSessionSize(req: Request, res: Response, maxBytes: number, refuse: (error: AgentPayloadTooLargeError) => void): void {
  const loaded = withoutCookie(req.session);
  const end = res.end;
  let checked = false;
  res.end = function guardedEnd(this: Response, ...args: unknown[]) {
    if (!checked) {
      checked = true;
      // No session left (destroyed: a logout), an unchanged one, or a response under way: nothing to check.
      const session = req.session as object | undefined;
      const oversized = session === undefined || res.headersSent ? undefined : oversizedSession(JSON.stringify(session), maxBytes);
      const tooLarge = oversized && withoutCookie(session) !== loaded ? oversized : undefined;
      if (tooLarge) {
        // The route's body and the headers that describe it go; the refusal is answered in their place.
        for (const header of ['Content-Length', 'Content-Type', 'Content-Encoding', 'ETag']) res.removeHeader(header);
        refuse(tooLarge);
        return res;
      }
    }
    return (end as (...endArgs: unknown[]) => Response).apply(this, args);
  } as Response['end'];
}

/** The session as express-session compares it to decide whether to save: without its cookie. */
function withoutCookie(session: object | undefined): string | undefined {
  return session === undefined ? undefined : JSON.stringify(session, (key, value: unknown) => (key === 'cookie' ? undefined : value));
}
