import { describe, expect, it } from 'vitest';
import { decideAgentRefresh } from '../../src/request/refresh.js';
import { RequestState } from '../../src/request/request-state.js';

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
});
