import { InvalidInputError } from '../errors.js';

/**
 * Who is acting on an agent session. Every session handle names one: there
 * is no default, so a forgotten user cannot turn into "no check".
 *
 * - `{ user: 'u-42' }`: a signed-in user. A session bound to another user
 *   refuses them (`SessionUserMismatchError`, nothing read or written); an
 *   unbound session is bound to them by their first call.
 * - `{ user: null }`: an anonymous request. Refused by any bound session;
 *   an unbound session stays unbound.
 * - `{ trusted: 'observer' }`: a background process of the app's own (the
 *   observer, an archiver, an admin script), named for diagnostics. No user
 *   check; its reads are not activity (they do not keep the session alive),
 *   and its writes reset the TTL to the idle timeout the session was created
 *   with, which may differ from this process's.
 */
export type Caller = { readonly user: string | null } | { readonly trusted: string };

/** How a caller reaches the Lua guard: ARGV[1] of every session script. */
export interface CallerArguments {
  /** '=<userId>' a user, '-' anonymous, '' trusted (no check). */
  owner: string;
  /** Whether the caller's calls count as the session's activity. */
  activity: boolean;
}

export function callerArguments(caller: Caller): CallerArguments {
  if (typeof caller === 'object' && caller !== null) {
    if ('user' in caller) {
      const { user } = caller;
      if (user === null) return { owner: '-', activity: true };
      if (typeof user === 'string' && user.length > 0) return { owner: `=${user}`, activity: true };
    } else if ('trusted' in caller && typeof caller.trusted === 'string' && caller.trusted.length > 0) {
      return { owner: '', activity: false };
    }
  }
  throw new InvalidInputError(
    'A session handle needs to know who is calling: store.session(id, { user: userId }) for a signed-in user, ' +
      "{ user: null } for an anonymous request, or { trusted: 'name' } for a background process of your own (no user check).",
  );
}
