/**
 * What one request has done to its agent session, for the cookie-session
 * store's end-of-request refresh. The refresh runs inside express-session
 * or koa-session, which hand the store only the cookie session object, so
 * the state is found through that object (a WeakMap: nothing is added to the
 * session's data, nothing is serialised).
 *
 * `RequestAgent` holds the state of its request and records each outcome in
 * it; the refresh reads it through `requestStateOf` and decides with a named
 * reason (refresh.ts).
 */

/**
 * - 'untouched': no agent call of this request reached Redis yet;
 * - 'refreshed': one did, and every agent call resets the TTL of all keys;
 * - 'refused': the agent session is someone else's (a call was refused), so
 *   this request must not keep it alive either.
 */
export type AgentTtlState = 'untouched' | 'refreshed' | 'refused';

export class RequestState {
  agentTtl: AgentTtlState = 'untouched';
  /**
   * A call of this request met `StoreUnavailableError`: the request sends
   * nothing more to Redis (later agent calls fail the same way at once, the
   * end-of-request refresh and cookie-session save are skipped), so a hung
   * Redis costs it one fail-fast wait, not one per call.
   */
  storeUnavailable = false;
  /** The request's user as `getUserId` says when asked (it can change during a request, at login or logout). */
  readonly user: () => string | null;

  constructor(user: () => string | null) {
    this.user = user;
  }
}

const states = new WeakMap<object, RequestState>();

export function attachRequestState(cookieSession: object, state: RequestState): void {
  states.set(cookieSession, state);
}

/** The state of the request that loaded this cookie session object; undefined for an object the middleware never saw (e.g. after `req.session.reload()`). */
export function requestStateOf(cookieSession: object | undefined): RequestState | undefined {
  return cookieSession === undefined ? undefined : states.get(cookieSession);
}

/** Follows express-session's regenerate, which replaces the cookie session object mid-request. */
export function carryRequestState(from: object | undefined, to: object): void {
  const state = requestStateOf(from);
  if (state) states.set(to, state);
}
