import type { TouchUndo } from '../core/agent-session.js';

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

/**
 * What loading the cookie session already refreshed (see `AgentRefresh.load`),
 * so that the end of the request does not send it again, or undoes it.
 */
export interface LoadRefresh {
  /** The cookie session's key, and when (client clock, ms) its TTL set at load ends; undefined when the load did not extend it. */
  cookieKey: string;
  cookieDeadline: number | undefined;
  /** Until when (client clock, ms) the load's refresh stands for the request's: a longer request refreshes again as it ends. */
  freshUntil: number;
  /** The agent session the load looked at, by the link in the stored cookie session. */
  agent:
    | {
        id: string;
        /** 'touched' as `user` (the link's; null: an unbound session, which anyone may keep alive); 'missing': not in Redis. */
        outcome: 'touched' | 'missing';
        user: string | null;
        /** How to put lastActive and the TTLs back when the request's user turns out not to be entitled. */
        undo: TouchUndo | undefined;
      }
    | undefined;
}

export class RequestState {
  agentTtl: AgentTtlState = 'untouched';
  /**
   * A call of this request met `StoreUnavailableError`: the request sends
   * nothing more to Redis (later agent calls fail the same way at once, the
   * end-of-request refresh and cookie-session save are skipped), so a hung
   * Redis costs it one fail-fast wait, not one per call.
   */
  storeUnavailable = false;
  /** What loading the cookie session refreshed; undefined when it was loaded the old way (a cookie session id without an agent tag). */
  load: LoadRefresh | undefined;
  /** The request's user as `getUserId` says when asked (it can change during a request, at login or logout). */
  readonly user: () => string | null;

  #endUser: { user: string | null } | { error: unknown } | undefined;

  constructor(user: () => string | null, load?: LoadRefresh) {
    this.user = user;
    this.load = load;
  }

  /**
   * The request's user as the end of the request sees it: `getUserId` is
   * asked once, and both end-of-request decisions (refresh, undo of the
   * load's touch) use that answer, or its error.
   */
  endUser(): string | null {
    if (this.#endUser === undefined) {
      try {
        this.#endUser = { user: this.user() };
      } catch (error) {
        this.#endUser = { error };
      }
    }
    if ('error' in this.#endUser) throw this.#endUser.error;
    return this.#endUser.user;
  }
}

const loads = new WeakMap<object, LoadRefresh>();

/** Leaves what a load refreshed with `owner` (the loaded data, the request, the Koa context) for the middleware to pick up. */
export function recordLoad(owner: object, load: LoadRefresh): void {
  loads.set(owner, load);
}

export function takeLoad(owner: object | undefined): LoadRefresh | undefined {
  if (owner === undefined) return undefined;
  const load = loads.get(owner);
  loads.delete(owner);
  return load;
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
