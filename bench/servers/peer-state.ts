import { historyTurn, READ_LAST, type ReadView, type TurnView } from '../contract.js';

/**
 * The pattern users write by hand today, shared by the Express and Koa
 * peers: the agent state is a plain object inside the cookie session, the
 * turn history an array in it, trimmed to the window; the session library
 * saves the whole JSON back after every change (read, modify, write the
 * whole blob, with nothing to stop two requests doing so at once).
 */
export interface PeerAgentState {
  model: string;
  createdAt: number;
  /** Turns appended over the conversation (= seq of the newest). */
  turnCount: number;
  turns: TurnView[];
}

export interface PeerSession {
  userId?: string;
  agent?: PeerAgentState;
}

export function seedPeerState(turns: number, now = Date.now()): PeerAgentState {
  const history: TurnView[] = [];
  for (let index = 0; index < turns; index++) history.push({ seq: index + 1, ts: now, ...historyTurn(index) });
  return { model: 'bench-model', createdAt: now, turnCount: turns, turns: history };
}

/** Pushes one user turn and trims to the window, as a hand-written handler does. Returns the new turnCount. */
export function appendPeerTurn(state: PeerAgentState, content: string, window: number): number {
  state.turnCount += 1;
  state.turns.push({ seq: state.turnCount, ts: Date.now(), role: 'user', content });
  if (state.turns.length > window) state.turns.splice(0, state.turns.length - window);
  return state.turnCount;
}

export function peerReadView(session: PeerSession): ReadView {
  const agent = session.agent;
  return {
    userId: session.userId ?? '',
    turnCount: agent?.turnCount ?? 0,
    turns: agent ? agent.turns.slice(-READ_LAST) : [],
  };
}
