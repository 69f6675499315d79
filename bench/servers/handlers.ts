import type { RequestAgent } from '../../src/request/request-agent.js';
import { DEFAULT_HISTORY, fixedTail, historyTurn, READ_LAST, type LoginBody, type ReadView } from '../contract.js';
import { appendPeerTurn, peerReadView, seedPeerState, type PeerAgentState } from './peer-state.js';

/**
 * What a bench server does for each route, apart from the framework. The
 * Express and Koa apps (express-app.ts, koa-app.ts) wire these to the same
 * routes, so two servers differ only in the state layer they exercise.
 * `undefined` means "no logged-in session" (the app answers 401).
 */
export interface Handlers<Req> {
  login(req: Req, body: LoginBody): Promise<{ userId: string; turnCount: number }>;
  read(req: Req): Promise<ReadView | undefined>;
  append(req: Req, content: string): Promise<number | undefined>;
  touch(req: Req): Promise<string | undefined>;
}

/** The cookie-session object as the floor and the peers use it. */
export interface BenchSession {
  userId?: string;
  /** The floor's only state: a counter, so its append writes a small session. */
  turnCount?: number;
  /** The peer's agent state, kept inside the session. */
  agent?: PeerAgentState;
}

/** How a framework's cookie session is reached from a request. */
export interface SessionAccess<Req> {
  get(req: Req): BenchSession;
  /** Replaces the session id (session-fixation defence at login) and returns the session to fill. */
  regenerate(req: Req): Promise<BenchSession>;
}

/** 1 and 4: no session at all, the same bytes out. The ceiling. */
export function bareHandlers(): Handlers<unknown> {
  const tail = fixedTail(DEFAULT_HISTORY);
  let turnCount = DEFAULT_HISTORY;
  return {
    login: async (_req, { userId, turns }) => {
      turnCount = turns;
      return { userId, turnCount };
    },
    read: async () => ({ userId: 'bench-user', turnCount, turns: tail }),
    append: async () => ++turnCount,
    touch: async () => 'bench-user',
  };
}

/** 1b and 4b: a small cookie session in Redis and no agent state. The floor. */
export function floorHandlers<Req>(session: SessionAccess<Req>): Handlers<Req> {
  const tail = fixedTail(DEFAULT_HISTORY);
  return {
    login: async (req, { userId, turns }) => {
      const fresh = await session.regenerate(req);
      fresh.userId = userId;
      fresh.turnCount = turns;
      return { userId, turnCount: turns };
    },
    read: async (req) => {
      const { userId, turnCount = 0 } = session.get(req);
      return userId === undefined ? undefined : { userId, turnCount, turns: tail };
    },
    append: async (req) => {
      const current = session.get(req);
      if (current.userId === undefined) return undefined;
      current.turnCount = (current.turnCount ?? 0) + 1;
      return current.turnCount;
    },
    touch: async (req) => session.get(req).userId,
  };
}

/** 2 and 5: the agent state inside the session object, saved with it (see peer-state.ts). */
export function peerHandlers<Req>(session: SessionAccess<Req>, window: number): Handlers<Req> {
  return {
    login: async (req, { userId, turns }) => {
      const fresh = await session.regenerate(req);
      fresh.userId = userId;
      fresh.agent = seedPeerState(turns);
      return { userId, turnCount: turns };
    },
    read: async (req) => {
      const current = session.get(req);
      return current.userId === undefined ? undefined : peerReadView(current);
    },
    append: async (req, content) => {
      const current = session.get(req);
      if (current.userId === undefined || !current.agent) return undefined;
      return appendPeerTurn(current.agent, content, window);
    },
    touch: async (req) => session.get(req).userId,
  };
}

/** How many seed turns a login sends at once. */
const SEED_BATCH = 100;

/**
 * 3 and 6: agent-session. The user id lives in the cookie session (the
 * middleware's getUserId reads it); the turns live in agent-session's keys.
 */
export function agentHandlers<Req>(session: SessionAccess<Req>, agentOf: (req: Req) => RequestAgent): Handlers<Req> {
  return {
    login: async (req, { userId, turns }) => {
      const fresh = await session.regenerate(req);
      fresh.userId = userId;
      const agent = agentOf(req);
      let turnCount = 0;
      if (turns > 0) {
        // The first write creates the agent session; the rest are sent together, a batch at a time (seeding is
        // not measured; a thousand at once can outlast the fail-fast bound on a busy machine and answer 503).
        turnCount = (await agent.appendTurn(historyTurn(0))).seq;
        for (let from = 1; from < turns; from += SEED_BATCH) {
          const batch = Array.from({ length: Math.min(SEED_BATCH, turns - from) }, (_, index) => agent.appendTurn(historyTurn(from + index)));
          turnCount = Math.max(turnCount, ...(await Promise.all(batch)).map((turn) => turn.seq));
        }
      }
      return { userId, turnCount };
    },
    read: async (req) => {
      const userId = session.get(req).userId;
      if (userId === undefined) return undefined;
      const { meta, turns } = await agentOf(req).snapshot({ lastTurns: READ_LAST });
      return { userId, turnCount: meta?.turnCount ?? 0, turns };
    },
    append: async (req, content) => {
      if (session.get(req).userId === undefined) return undefined;
      return (await agentOf(req).appendTurn({ role: 'user', content })).seq;
    },
    touch: async (req) => session.get(req).userId,
  };
}
