import type { SessionStore } from '../core/agent-store.js';
import { CorruptStateError, SessionUserMismatchError } from '../errors.js';
import { boundToSomeoneElse, type AgentLink } from './agent-link.js';
import type { CookieSessionRedis } from './cookie-session-redis.js';
import type { AgentSessionEvent } from './events.js';
import { requestStateOf, type RequestState } from './request-state.js';

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
      reason: 'no-agent-session' | 'already-refreshed' | 'refused-this-request' | 'request-unknown' | 'user-lookup-failed' | 'bound-to-other-user';
    };

export function decideAgentRefresh(link: AgentLink | undefined, state: RequestState | undefined): RefreshDecision {
  if (link === undefined) return { touch: false, reason: 'no-agent-session' };
  if (state?.agentTtl === 'refreshed') return { touch: false, reason: 'already-refreshed' };
  if (state?.agentTtl === 'refused') return { touch: false, reason: 'refused-this-request' };
  if (state === undefined) return { touch: false, reason: 'request-unknown' };
  let user: string | null;
  try {
    user = state.user();
  } catch {
    return { touch: false, reason: 'user-lookup-failed' };
  }
  if (boundToSomeoneElse(link, user)) return { touch: false, reason: 'bound-to-other-user' };
  return { touch: true, reason: 'activity', user };
}

/** A request that met StoreUnavailableError sends nothing more to Redis: neither the refresh nor the cookie-session save (see RequestState). */
function metStoreUnavailable(cookieSession: object | undefined): boolean {
  return requestStateOf(cookieSession)?.storeUnavailable === true;
}

/** Reasons that leave a live agent session to expire although its cookie session was used: worth a debug line. */
const NOTEWORTHY = new Set<RefreshDecision['reason']>(['request-unknown', 'user-lookup-failed', 'bound-to-other-user', 'refused-this-request']);

/**
 * Activity-based expiry in at most one extra round trip: at the end of a
 * request the cookie-session store writes or extends the cookie session, and
 * the agent session's keys get their TTL reset by the same call.
 * - Extending an unchanged cookie session (the common case): one script for
 *   both where they share a node (standalone, Sentinel).
 * - Otherwise (a changed cookie session, or Cluster) both commands are
 *   started before either is awaited: on one connection node-redis writes
 *   commands issued in the same tick together, so they are pipelined; on
 *   Cluster they go out in parallel on two connections.
 * The cookie session is written or extended whatever `decideAgentRefresh` says,
 * unless a call of the request met StoreUnavailableError: then neither is sent.
 */
export class AgentRefresh {
  readonly #agents: SessionStore;
  readonly #redis: CookieSessionRedis;
  readonly #log: (event: AgentSessionEvent) => void;

  constructor(agents: SessionStore, redis: CookieSessionRedis, log: (event: AgentSessionEvent) => void) {
    this.#agents = agents;
    this.#redis = redis;
    this.#log = log;
  }

  /** Writes a changed cookie session (`value`) with the agent TOUCH alongside. */
  async write(key: string, value: string, ttlMs: number, link: AgentLink | undefined, cookieSession: object | undefined): Promise<void> {
    if (metStoreUnavailable(cookieSession)) return;
    const decision = this.#decide(link, cookieSession);
    const touch = decision.touch && link ? this.#touch(link.id, decision.user) : undefined;
    await Promise.all([this.#redis.write(key, value, ttlMs), touch]);
    this.#refreshed(decision, cookieSession);
  }

  /** Extends an unchanged cookie session (PEXPIRE, never recreating it) with the agent TOUCH alongside. */
  async extend(key: string, ttlMs: number, link: AgentLink | undefined, cookieSession: object | undefined): Promise<void> {
    if (metStoreUnavailable(cookieSession)) return;
    const decision = this.#decide(link, cookieSession);
    if (!decision.touch || !link) {
      await this.#redis.extend(key, ttlMs);
    } else if (this.#redis.sharesNodeWithAgents) {
      // One script for both; another user's session is left untouched by it (not refused), and the cookie session is still extended.
      try {
        await this.#agents.session(link.id, { user: decision.user }).touchAlong(key, ttlMs);
      } catch (error) {
        // A corrupt agent session refuses the script whole: the cookie session is extended on its own.
        if (!(error instanceof CorruptStateError)) throw error;
        this.#corrupt(error);
        await this.#redis.extend(key, ttlMs);
        return;
      }
    } else {
      await Promise.all([this.#redis.extend(key, ttlMs), this.#touch(link.id, decision.user)]);
    }
    this.#refreshed(decision, cookieSession);
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
      if (error instanceof CorruptStateError) this.#corrupt(error);
      else if (!(error instanceof SessionUserMismatchError)) throw error;
    }
  }

  #corrupt(error: CorruptStateError): void {
    this.#log({
      type: 'warning',
      code: 'agent_state_corrupt',
      key: error.key,
      message:
        `The agent session stored at Redis key "${error.key}" is corrupt; its TTL was not refreshed, the request went on. ` +
        'The value is not logged; delete the agent session (agent.delete()) or inspect the key.',
    });
  }
}
