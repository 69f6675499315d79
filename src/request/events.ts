/**
 * What the middleware reports to the app's `logger`: problems that have no
 * response to go to, and (as 'debug') why a request left its agent session's
 * TTL alone. Never carries stored values or secrets.
 */

/** Reported to `logger`. */
export type AgentSessionEvent =
  /** A deployment problem with the Secure cookie: reported once per middleware instance. */
  | { type: 'warning'; code: 'secure_cookie_over_http' | 'plain_cookie_over_http'; message: string }
  /**
   * The cookie session stored at `key` could not be read (not valid JSON, or
   * not a session); the request started a fresh one. Reported each time;
   * the stored value is never included.
   */
  | { type: 'warning'; code: 'session_corrupt'; key: string; message: string }
  /**
   * The end-of-request refresh met a corrupt agent session (`key`, see
   * CorruptStateError): its TTL was left alone, the cookie session was still
   * written or extended, so the user is not held back by it (the app can
   * delete the agent session). The stored value is never included.
   */
  | { type: 'warning'; code: 'agent_state_corrupt'; key: string; message: string }
  /** The cookie session could not be saved or refreshed after the response was already under way. */
  | { type: 'error'; code: 'session_commit_failed'; message: string }
  /** Express: express-session's callback threw when the cookie-session store handed it a result; the request carried on without it. */
  | { type: 'error'; code: 'session_callback_failed'; message: string }
  /**
   * The end-of-request refresh left a linked agent session's TTL alone, and
   * why (see `RefreshDecision` in refresh.ts): it belongs to another user,
   * a call was refused, the user could not be determined. The default logger
   * ignores debug events.
   */
  | {
      type: 'debug';
      code: 'agent_refresh_skipped';
      reason: 'request-unknown' | 'user-lookup-failed' | 'bound-to-other-user' | 'refused-this-request' | 'no-agent-session' | 'already-refreshed' | 'refreshed-at-load';
      message: string;
    }
  /**
   * Loading the cookie session kept its agent session alive as the user its
   * link records, and the request turned out to be another user's (a logout,
   * another account on the same browser): that refresh was undone.
   */
  | { type: 'debug'; code: 'agent_refresh_undone'; reason: 'user-lookup-failed' | 'bound-to-other-user' | 'refused-this-request'; message: string };
