import { describe, expect, it } from 'vitest';
import { decideAgentRefresh, loadRefreshToleranceMs, undoLoadTouch } from '../../src/request/refresh.js';
import { RequestState, type LoadRefresh } from '../../src/request/request-state.js';

/**
 * The end-of-request refresh decides with a named reason; each reason on its
 * own (the HTTP behaviour behind them is in lifecycle and user-binding tests).
 */
describe('end-of-request refresh decision', () => {
  const link = { id: 'agent-1', userId: 'alice' };
  const asUser = (user: string | null) => new RequestState(() => user);

  it('touches as the request user when the request used its own session and made no agent call', () => {
    expect(decideAgentRefresh(link, asUser('alice'))).toEqual({ touch: true, reason: 'activity', user: 'alice' });
    expect(decideAgentRefresh({ id: 'agent-2' }, asUser(null))).toEqual({ touch: true, reason: 'activity', user: null });
  });

  it('does nothing without an agent session', () => {
    expect(decideAgentRefresh(undefined, asUser('alice'))).toEqual({ touch: false, reason: 'no-agent-session' });
  });

  it('does not repeat a refresh an agent call of the request already did', () => {
    const state = asUser('alice');
    state.agentTtl = 'refreshed';
    expect(decideAgentRefresh(link, state)).toEqual({ touch: false, reason: 'already-refreshed' });
  });

  it('leaves a session alone after a call of this request was refused', () => {
    const state = asUser('alice');
    state.agentTtl = 'refused';
    expect(decideAgentRefresh(link, state)).toEqual({ touch: false, reason: 'refused-this-request' });
  });

  it('leaves it alone when the cookie session object is not the one the middleware saw', () => {
    expect(decideAgentRefresh(link, undefined)).toEqual({ touch: false, reason: 'request-unknown' });
  });

  it('leaves it alone when getUserId throws', () => {
    const state = new RequestState(() => {
      throw new Error('auth backend down');
    });
    expect(decideAgentRefresh(link, state)).toEqual({ touch: false, reason: 'user-lookup-failed' });
  });

  it("never keeps another user's (or, for an anonymous request, a bound) session alive", () => {
    expect(decideAgentRefresh(link, asUser('mallory'))).toEqual({ touch: false, reason: 'bound-to-other-user' });
    expect(decideAgentRefresh(link, asUser(null))).toEqual({ touch: false, reason: 'bound-to-other-user' });
  });

  describe('after the cookie-session load touched the agent session', () => {
    const NOW = 1_000_000;
    const undo = { token: '999', lastActive: '900', deadline: 5_000 };
    const loaded = (user: string | null, outcome: 'touched' | 'missing' = 'touched', id = link.id): LoadRefresh => ({
      cookieKey: 'sess:{agent-1}x',
      cookieDeadline: NOW + 60_000,
      freshUntil: NOW + 600,
      agent: { id, outcome, user, undo: outcome === 'touched' ? undo : undefined },
    });
    const state = (requestUser: string | null, load: LoadRefresh) => new RequestState(() => requestUser, load);

    it("sends nothing more for the link's user, within the tolerance", () => {
      expect(decideAgentRefresh(link, state('alice', loaded('alice')), NOW)).toEqual({ touch: false, reason: 'refreshed-at-load' });
      expect(decideAgentRefresh(link, state('alice', loaded('alice', 'missing')), NOW)).toEqual({ touch: false, reason: 'refreshed-at-load' });
      // An unbound session, touched as anonymous: whoever the request is may keep it alive.
      expect(decideAgentRefresh({ id: 'agent-1' }, state('bob', loaded(null)), NOW)).toEqual({ touch: false, reason: 'refreshed-at-load' });
      expect(undoLoadTouch(state('alice', loaded('alice')))).toBeUndefined();
      expect(undoLoadTouch(state('bob', loaded(null)))).toBeUndefined();
    });

    it('touches again at the end of a request that outlasted the tolerance, or for another linked session', () => {
      expect(decideAgentRefresh(link, state('alice', loaded('alice')), NOW + 601)).toEqual({ touch: true, reason: 'activity', user: 'alice' });
      expect(decideAgentRefresh(link, state('alice', loaded('alice', 'touched', 'agent-0')), NOW)).toEqual({ touch: true, reason: 'activity', user: 'alice' });
    });

    it("undoes it for a request of another user, a failed user lookup, or a refused call", () => {
      expect(undoLoadTouch(state('mallory', loaded('alice')))).toBe('bound-to-other-user');
      expect(undoLoadTouch(state(null, loaded('alice')))).toBe('bound-to-other-user');
      const failing = new RequestState(() => {
        throw new Error('auth backend down');
      }, loaded('alice'));
      expect(undoLoadTouch(failing)).toBe('user-lookup-failed');
      const refused = state('alice', loaded('alice'));
      refused.agentTtl = 'refused';
      expect(undoLoadTouch(refused)).toBe('refused-this-request');
      // Nothing to undo where the load touched nothing.
      expect(undoLoadTouch(state('mallory', loaded('alice', 'missing')))).toBeUndefined();
    });

    it('asks getUserId once for both end-of-request decisions, and both see the same answer', () => {
      const answers = ['alice', 'mallory'];
      let asked = 0;
      const changing = new RequestState(() => answers[asked++] ?? null, loaded('alice'));
      expect(decideAgentRefresh(link, changing, NOW)).toEqual({ touch: false, reason: 'refreshed-at-load' });
      expect(undoLoadTouch(changing)).toBeUndefined();
      expect(asked).toBe(1);
    });

    it('counts 1 % of the idle timeout as the same request', () => {
      expect(loadRefreshToleranceMs(3_600_000)).toBe(36_000);
    });
  });
});
