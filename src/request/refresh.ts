import type { SessionStore } from '../core/agent-store.js';
import { CorruptStateError, SessionUserMismatchError } from '../errors.js';
import { agentTagOf } from './agent-id.js';
import { boundToSomeoneElse, LINK_FIELD, readLink, type AgentLink, type SessionData } from './agent-link.js';
import { NOT_A_STRING, type CookieSessionRedis } from './cookie-session-redis.js';
import type { AgentSessionEvent } from './events.js';
import { requestStateOf, type LoadRefresh, type RequestState } from './request-state.js';

/**
 * Whether the end-of-request refresh resets the agent session's TTL, and
 * why. A pure function of the cookie session's link and the request's state,
 * so every reason can be tested on its own:
 * - 'activity': the request used the cookie session and nothing below
 *   applies: TOUCH as the request's user (Redis refuses it too if the
 *   binding it holds says otherwise);
 * - 'no-agent-session': the cookie session links none;
 * - 'already-refreshed': an agent call of this request (or an earlier save
 *   of it, e.g. koa-session's at regenerate) already reset every TTL;
 * - 'refreshed-at-load': loading the cookie session already touched this
 *   agent session as a user the request's user matches (or found it gone),
 *   and the request did not outlast the load's refresh (see `LoadRefresh`);
 * - 'refused-this-request': a call was refused as someone else's session;
 * - 'request-unknown': the cookie session object is not the one the
 *   middleware saw (e.g. `req.session.reload()`), so the user is unknown;
 * - 'user-lookup-failed': `getUserId` threw;
 * - 'bound-to-other-user': the cookie session records a binding to another
 *   user than the request's: this browser must not keep it alive.
 * Not touching is the safe side of every doubt.
 */
export type RefreshDecision =
  | { touch: true; reason: 'activity'; user: string | null }
  | {
      touch: false;
      reason:
        | 'no-agent-session'
        | 'already-refreshed'
        | 'refreshed-at-load'
        | 'refused-this-request'
        | 'request-unknown'
        | 'user-lookup-failed'
        | 'bound-to-other-user';
    };

export function decideAgentRefresh(link: AgentLink | undefined, state: RequestState | undefined, now: number = Date.now()): RefreshDecision {
  if (link === undefined) return { touch: false, reason: 'no-agent-session' };
  if (state?.agentTtl === 'refreshed') return { touch: false, reason: 'already-refreshed' };
  if (state?.agentTtl === 'refused') return { touch: false, reason: 'refused-this-request' };
  if (state === undefined) return { touch: false, reason: 'request-unknown' };
  let user: string | null;
  try {
    user = state.endUser();
  } catch {
    return { touch: false, reason: 'user-lookup-failed' };
  }
  if (boundToSomeoneElse(link, user)) return { touch: false, reason: 'bound-to-other-user' };
  const loaded = state.load?.agent;
  if (loaded?.id === link.id && now <= state.load!.freshUntil && (loaded.outcome === 'missing' || loaded.user === null || loaded.user === user)) {
    return { touch: false, reason: 'refreshed-at-load' };
  }
  return { touch: true, reason: 'activity', user };
}

/**
 * Whether the touch the cookie-session load made (as the user the stored
 * link recorded, before `getUserId` could be asked) must be undone: the
 * request's user is not that user (a logout, another account on the same
 * browser), `getUserId` threw, or a call of the request was refused as
 * someone else's. An unbound agent session (touched as anonymous) may be kept
 * alive by anyone, as at the end of a request.
 */
export function undoLoadTouch(state: RequestState | undefined): 'refused-this-request' | 'bound-to-other-user' | 'user-lookup-failed' | undefined {
  const loaded = state?.load?.agent;
  if (!state || loaded?.outcome !== 'touched' || !loaded.undo) return undefined;
  if (state.agentTtl === 'refused') return 'refused-this-request';
  if (loaded.user === null) return undefined;
  try {
    return state.endUser() === loaded.user ? undefined : 'bound-to-other-user';
  } catch {
    return 'user-lookup-failed';
  }
}

/**
 * How long after the cookie session was loaded its refresh still counts as
 * the request's: a request that lasts longer (a stream, a slow upstream)
 * refreshes again as it ends, so the cookie session and its agent session
 * expire between 0.99 and 1.0 x idleTimeoutMs after the end of the last
 * request that used them.
 */
export function loadRefreshToleranceMs(idleTimeoutMs: number): number {
  return Math.floor(idleTimeoutMs / 100);
}

/** A request that met StoreUnavailableError sends nothing more to Redis: neither the refresh nor the cookie-session save (see RequestState). */
function metStoreUnavailable(cookieSession: object | undefined): boolean {
  return requestStateOf(cookieSession)?.storeUnavailable === true;
}

/** Reasons that leave a live agent session to expire although its cookie session was used: worth a debug line. */
const NOTEWORTHY = new Set<RefreshDecision['reason']>(['request-unknown', 'user-lookup-failed', 'bound-to-other-user', 'refused-this-request']);

/** The cookie session as loaded: its data (null: none, or not usable) and stored string, its PTTL before the load (-2 when missing), and what the load refreshed. */
export interface LoadedCookieSession {
  data: SessionData | null;
  raw: string | undefined;
  pttlMs: number;
  refresh: LoadRefresh | undefined;
}

/**
 * Activity-based expiry, in the round trips a request makes anyway.
 *
 * At load (`load`): a cookie session whose id carries its agent session's id
 * (see `newCookieSessionId`) is read with one script that also extends it
 * and touches the agent session as the user its link records (they share a
 * Cluster slot). A request that uses neither then sends nothing more; a read
 * or an append sends its agent script, which resets the TTLs again.
 *
 * At the end (`write`, `extend`), only what the load did not cover:
 * - a changed cookie session is written (SET);
 * - an unchanged one is extended only when the load did not (an id without
 *   an agent tag, a key without a TTL), when the cookie's lifetime changed,
 *   or when the request outlasted `loadRefreshToleranceMs`;
 * - the agent session is touched as the request's user when
 *   `decideAgentRefresh` says so (the load did not touch it: another
 *   session is linked, or the id has no tag);
 * - the load's touch is undone when `undoLoadTouch` says the request's user
 *   was not entitled to it.
 * Where both the cookie extension and a TOUCH are due, one script does both
 * where they share a node (standalone, Sentinel); otherwise the commands are
 * started before either is awaited (pipelined on one connection, in parallel
 * on Cluster). Nothing is sent once a call of the request met
 * StoreUnavailableError.
 */
export class AgentRefresh {
  readonly #agents: SessionStore;
  readonly #redis: CookieSessionRedis;
  readonly #log: (event: AgentSessionEvent) => void;
  readonly #toleranceMs: number;

  constructor(agents: SessionStore, redis: CookieSessionRedis, log: (event: AgentSessionEvent) => void, idleTimeoutMs: number) {
    this.#agents = agents;
    this.#redis = redis;
    this.#log = log;
    this.#toleranceMs = loadRefreshToleranceMs(idleTimeoutMs);
  }

  /**
   * Loads the cookie session at `key` (id `sessionId`), extending it to
   * `ttlMs` while its PTTL is above `extendAboveMs`. `parse` turns the stored
   * value into the session's data (null: not a usable session).
   */
  async load(
    key: string,
    sessionId: string,
    options: { ttlMs: number; extendAboveMs: number; withTtl: boolean },
    parse: (raw: string | typeof NOT_A_STRING) => SessionData | null,
  ): Promise<LoadedCookieSession> {
    const tag = agentTagOf(sessionId);
    if (tag === undefined) return this.#loadUntagged(key, options.withTtl, parse);
    const now = Date.now();
    const agent = this.#agents.session(tag, { trusted: 'agent-session middleware' });
    const reply = await agent.loadAlong(key, { ttlMs: options.ttlMs, extendAboveMs: options.extendAboveMs, linkField: LINK_FIELD });
    if (reply.pttlMs === -2) return { data: null, raw: undefined, pttlMs: -2, refresh: undefined };
    const data = parse(reply.value ?? NOT_A_STRING);
    if (reply.touched === 'corrupt') this.#corrupt(agent.keys.meta);
    const touched = reply.touched === 'touched' || reply.touched === 'missing';
    return {
      data,
      raw: reply.value ?? undefined,
      pttlMs: reply.pttlMs,
      refresh: {
        cookieKey: key,
        cookieDeadline: reply.extended ? now + options.ttlMs : undefined,
        freshUntil: now + this.#toleranceMs,
        agent: touched && data
          ? { id: tag, outcome: reply.touched as 'touched' | 'missing', user: readLink(data)?.userId ?? null, undo: reply.undo }
          : undefined,
      },
    };
  }

  async #loadUntagged(key: string, withTtl: boolean, parse: (raw: string | typeof NOT_A_STRING) => SessionData | null): Promise<LoadedCookieSession> {
    if (!withTtl) {
      const raw = await this.#redis.get(key);
      if (raw === null) return { data: null, raw: undefined, pttlMs: -2, refresh: undefined };
      return { data: parse(raw), raw: raw === NOT_A_STRING ? undefined : raw, pttlMs: -1, refresh: undefined };
    }
    const stored = await this.#redis.getWithTtl(key);
    if (stored === null) return { data: null, raw: undefined, pttlMs: -2, refresh: undefined };
    if (stored === NOT_A_STRING) return { data: parse(NOT_A_STRING), raw: undefined, pttlMs: -3, refresh: undefined };
    return { data: parse(stored.value), raw: stored.value, pttlMs: stored.pttlMs, refresh: undefined };
  }

  /** Writes a changed cookie session (`value`) with the agent TOUCH (or the undo of the load's) alongside. */
  async write(key: string, value: string, ttlMs: number, link: AgentLink | undefined, cookieSession: object | undefined): Promise<void> {
    if (metStoreUnavailable(cookieSession)) return;
    const decision = this.#decide(link, cookieSession);
    const touch = decision.touch && link ? this.#touch(link.id, decision.user) : undefined;
    await Promise.all([this.#redis.write(key, value, ttlMs), touch, this.#undoLoad(cookieSession)]);
    this.#refreshed(decision, cookieSession);
  }

  /** Extends an unchanged cookie session (PEXPIRE, never recreating it) unless the load did, with the agent TOUCH (or the undo of the load's) alongside. */
  async extend(key: string, ttlMs: number, link: AgentLink | undefined, cookieSession: object | undefined): Promise<void> {
    if (metStoreUnavailable(cookieSession)) return;
    const decision = this.#decide(link, cookieSession);
    const undo = this.#undoLoad(cookieSession);
    if (this.#extendedAtLoad(key, ttlMs, cookieSession)) {
      await Promise.all([decision.touch && link ? this.#touch(link.id, decision.user) : undefined, undo]);
    } else if (!decision.touch || !link) {
      await Promise.all([this.#redis.extend(key, ttlMs), undo]);
    } else if (this.#redis.sharesNodeWithAgents) {
      // One script for both; another user's session is left untouched by it (not refused), and the cookie session is still extended.
      try {
        await Promise.all([this.#agents.session(link.id, { user: decision.user }).touchAlong(key, ttlMs), undo]);
      } catch (error) {
        // A corrupt agent session refuses the script whole: the cookie session is extended on its own.
        if (!(error instanceof CorruptStateError)) throw error;
        this.#corrupt(error.key);
        await this.#redis.extend(key, ttlMs);
        return;
      }
    } else {
      await Promise.all([this.#redis.extend(key, ttlMs), this.#touch(link.id, decision.user), undo]);
    }
    this.#refreshed(decision, cookieSession);
  }

  /**
   * Whether the load already extended this key to the cookie's lifetime:
   * the same key, the same deadline give or take the tolerance (an app that
   * changed the cookie's max age in the request gets it applied), and a
   * request that did not outlast the tolerance.
   */
  #extendedAtLoad(key: string, ttlMs: number, cookieSession: object | undefined): boolean {
    const load = requestStateOf(cookieSession)?.load;
    if (load?.cookieDeadline === undefined || load.cookieKey !== key) return false;
    const now = Date.now();
    return now <= load.freshUntil && Math.abs(now + ttlMs - load.cookieDeadline) <= this.#toleranceMs;
  }

  #decide(link: AgentLink | undefined, cookieSession: object | undefined): RefreshDecision {
    const decision = decideAgentRefresh(link, requestStateOf(cookieSession));
    if (!decision.touch && NOTEWORTHY.has(decision.reason)) {
      this.#log({
        type: 'debug',
        code: 'agent_refresh_skipped',
        reason: decision.reason,
        message: `The agent session's TTL was not refreshed at the end of this request (${decision.reason}).`,
      });
    }
    return decision;
  }

  #refreshed(decision: RefreshDecision, cookieSession: object | undefined): void {
    const state = requestStateOf(cookieSession);
    if (decision.touch && state) state.agentTtl = 'refreshed';
  }

  /** Undoes the load's touch when the request was not entitled to it (see `undoLoadTouch`); once per request. */
  async #undoLoad(cookieSession: object | undefined): Promise<void> {
    const state = requestStateOf(cookieSession);
    const reason = undoLoadTouch(state);
    if (!reason) return;
    const loaded = state!.load!.agent!;
    state!.load!.agent = undefined;
    try {
      await this.#agents.session(loaded.id, { trusted: 'agent-session middleware' }).untouch(loaded.undo!);
    } catch (error) {
      if (!(error instanceof CorruptStateError)) throw error;
      this.#corrupt(error.key);
      return;
    }
    this.#log({
      type: 'debug',
      code: 'agent_refresh_undone',
      reason,
      message: "Loading the cookie session kept its agent session alive as the user its link records; this request was another user's, so that was undone.",
    });
  }

  /**
   * TOUCH as `user`; a refusal by the binding in Redis means nothing was
   * touched, which is all the refresh needs. So does a corrupt agent session
   * (reported): failing the request for it would lock the user out of every
   * route, logout included, until the key expired.
   */
  async #touch(id: string, user: string | null): Promise<void> {
    try {
      await this.#agents.session(id, { user }).touch();
    } catch (error) {
      if (error instanceof CorruptStateError) this.#corrupt(error.key);
      else if (!(error instanceof SessionUserMismatchError)) throw error;
    }
  }

  #corrupt(key: string): void {
    this.#log({
      type: 'warning',
      code: 'agent_state_corrupt',
      key,
      message:
        `The agent session stored at Redis key "${key}" is corrupt; its TTL was not refreshed, the request went on. ` +
        'The value is not logged; delete the agent session (agent.delete()) or inspect the key.',
    });
  }
}
