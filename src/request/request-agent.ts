import type { AgentSession, ObservationRequestOptions, ObservationRequestResult } from '../core/api.js';
import type { SessionStore } from '../core/agent-store.js';
import type { ConversationList, ConversationPage, HistoryQuery } from '../core/cold-tier.js';
import {
  ConfigError,
  SessionExistsError,
  SessionNotFoundError,
  SessionUserMismatchError,
  StoreUnavailableError,
  ToolCallNotFoundError,
  UserRequiredError,
} from '../errors.js';
import type {
  AgentMeta,
  AgentSnapshot,
  CompleteToolCallOptions,
  IdempotentWriteOptions,
  MetaPatch,
  NotesQuery,
  NotesResult,
  ToolCall,
  ToolCallInput,
  Turn,
  TurnInput,
  TurnQuery,
} from '../core/types.js';
import { agentIdFor, successorIdFor } from './agent-id.js';
import { boundToSomeoneElse, detachLink, readLink, writeLink, type AgentLink, type SessionData } from './agent-link.js';
import type { RequestState } from './request-state.js';
import { checkedIdempotencyKey } from '../core/ids.js';
import type { SessionEvent } from '../core/session-events.js';

/** How a `RequestAgent` reaches the request's cookie session; each adapter supplies one. */
export interface CookieSessionAccess {
  /** The cookie session's data as it is now (Express swaps the object on regenerate), or undefined once the app destroyed it. */
  data(): SessionData | undefined;
  /** The cookie session's id (it changes on regenerate). */
  id(): string | undefined;
}

/** A snapshot of a request's agent session; `meta` is null while there is none yet. */
export interface RequestAgentSnapshot extends Omit<AgentSnapshot, 'meta'> {
  meta: AgentMeta | null;
}

/** What `resume(id)` answers: the conversation the cookie session is linked to now. */
export interface ResumedConversation {
  agentSessionId: string;
  /** Its turn count, which is also the seq of its last turn: the next append gets turnCount + 1. */
  turnCount: number;
  /** Whether it had to come back from the cold tier (its keys had left Redis) rather than being still there. */
  restored: boolean;
}


/**
 * `req.agent` / `ctx.agent`: the request's agent session, created lazily.
 *
 * - Reads before the first write return empty results (no metadata, no
 *   turns, `{ ready: false }` notes) without a Redis call.
 * - The first write creates the agent session, bound to this request's user,
 *   and records it in the cookie session.
 * - The user binding is checked when the request uses the agent, not when it
 *   comes in: a route that does not use it is served whoever asks (a logged
 *   out browser can still reach /login). The binding recorded in the cookie
 *   session is checked first, without a Redis call; every call then passes
 *   this request's user as the caller, so the Lua guard in Redis refuses
 *   another user's session too. Either way the call fails with
 *   `SessionUserMismatchError` (a 403), and nothing is read or written, the
 *   TTL included: the end-of-request refresh leaves the keys alone as well.
 * - Every call records in the request's state that the agent TTL is fresh
 *   (or that the session was refused), so the end-of-request refresh does
 *   not send a TOUCH the call already did (or must not do).
 * - An agent session that expired or was deleted while its cookie session
 *   lived on reads as empty. Without the cold tier, the next write starts it
 *   afresh under the same id. With it, the next write first restores it from
 *   the archive (its seqs continue where the archive ends) and then writes;
 *   if the archive does not have it (it expired before the archiver ever
 *   ran, or it was erased), the write starts a new conversation under a
 *   successor id (see `successorIdFor`), never under the old one.
 * - With the cold tier: `resume(id)` links the cookie session to another of
 *   the user's conversations, `history()` reads this conversation beyond the
 *   window, `conversations()` lists the user's conversations. Without it they
 *   throw `ConfigError` whatever the state, so a missing option shows on the
 *   first call, not only once a conversation has expired.
 */
export class RequestAgent {
  readonly #agents: SessionStore;
  readonly #cookieSession: CookieSessionAccess;
  readonly #state: RequestState;

  constructor(agents: SessionStore, cookieSession: CookieSessionAccess, state: RequestState) {
    this.#agents = agents;
    this.#cookieSession = cookieSession;
    this.#state = state;
  }

  /** The agent session's id; undefined until the first write creates it. */
  get id(): string | undefined {
    return this.#link()?.id;
  }

  /** The user the agent session is bound to; undefined while none is (or there is no agent session). */
  get userId(): string | undefined {
    return this.#link()?.userId;
  }

  // --- reads: empty until the agent session exists ---------------------------

  async meta(): Promise<AgentMeta | null> {
    return this.#read((session) => session.meta(), () => null);
  }

  async turns(query?: TurnQuery): Promise<Turn[]> {
    return this.#read((session) => session.turns(query), () => []);
  }

  /** Metadata, the last `lastTurns` (default 10) turns, tool calls and notes, in one round trip. */
  async snapshot(options?: { lastTurns?: number | undefined; notes?: NotesQuery | undefined }): Promise<RequestAgentSnapshot> {
    return this.#read<RequestAgentSnapshot>(
      (session) => session.snapshot(options),
      () => ({ meta: null, turns: [], toolCalls: [], notes: { ready: false } }),
    );
  }

  async toolCalls(): Promise<ToolCall[]> {
    return this.#read((session) => session.toolCalls(), () => []);
  }

  async toolCall(callId: string): Promise<ToolCall> {
    return this.#read((session) => session.toolCall(callId), () => {
      throw new ToolCallNotFoundError(callId);
    });
  }

  /** The observer's notes: `{ ready: false }` until an observer has written, else with their staleness by your tolerances. */
  async notes<T = unknown>(query?: NotesQuery): Promise<NotesResult<T>> {
    return this.#read<NotesResult<T>>((session) => session.notes<T>(query), () => ({ ready: false }));
  }

  // --- events ------------------------------------------------------------------

  /**
   * Follows this request's agent session: `listener` gets each of its
   * events (which say what changed, never the content) until `unsubscribe()`.
   * The binding rules apply as for a read, before anything is subscribed:
   * another user's session is refused with `SessionUserMismatchError` (403),
   * checked against the cookie session and then by the guard in Redis.
   * Resolves to null, subscribing nothing, while there is no agent session
   * (none yet, or it expired). `onGap` is called when events may have been
   * missed (the shared subscriber connection re-subscribed after a
   * reconnect): read the state again. It follows the session linked now; a
   * later `resume()` or a write under a successor id is a new subscription.
   * `agentEvents()` streams this as server-sent events.
   */
  async subscribe(
    listener: (event: SessionEvent) => void,
    options: { onGap?: (() => void) | undefined } = {},
  ): Promise<{ sessionId: string; unsubscribe: () => Promise<void> } | null> {
    if (!this.#agents.publishesEvents) {
      throw new ConfigError(
        'req.agent.subscribe() / ctx.agent.subscribe() (and agentEvents()) follow session events, and this middleware was given events: false, ' +
          'so its scripts publish none and the stream would stay silent. Remove events: false from agentSession() to follow sessions live.',
      );
    }
    const exists = await this.#read((session) => session.meta().then(() => true), () => false);
    const sessionId = this.#link()?.id;
    if (!exists || sessionId === undefined) return null;
    const unsubscribe = await this.#whileAvailable(() =>
      this.#agents.subscribe(sessionId, listener, options.onGap ? { onGap: options.onGap } : {}),
    );
    return { sessionId, unsubscribe };
  }

  // --- the cold tier ---------------------------------------------------------

  /**
   * Links this cookie session to the conversation `id` (this request's
   * agent session from now on), restoring it from the cold tier when its
   * keys have left Redis. The binding rules apply: another user's
   * conversation is refused with `SessionUserMismatchError` (403) and nothing
   * is read, restored or linked; an anonymous request may only resume an
   * unbound conversation, and a signed-in user's first call binds one to
   * them. `SessionNotFoundError` for an id that is neither in Redis nor in
   * the archive (never existed, or erased). The conversation linked before
   * is left as it is, to expire on its own. Two round trips to Redis (three
   * when it has to be restored), plus the archive's when it is not in Redis.
   */
  async resume(id: string): Promise<ResumedConversation> {
    this.#requireColdTier('resume(id)');
    const data = this.#requireCookieSession();
    const user = this.#state.user();
    const link = readLink(data);
    // The conversation already linked, recorded as someone else's: refused before Redis or the archive is asked.
    if (link?.id === id) this.#checkBinding(link, user);
    let resumed: { session: AgentSession; restored: boolean };
    let meta: AgentMeta;
    try {
      [resumed, meta] = await this.#whileAvailable(async () => {
        const found = await this.#agents.resume(id, { user });
        // Its turn count; as a call of this user's, it also binds an unbound conversation to them.
        return [found, await found.session.meta()] as const;
      });
    } catch (error) {
      // Only a refusal of the linked conversation concerns the end-of-request refresh; any other refused id was never linked.
      if (error instanceof SessionUserMismatchError && link?.id === id) this.#leaveTtlAlone();
      throw error;
    }
    this.#used(id, user);
    return { agentSessionId: id, turnCount: meta.turnCount, restored: resumed.restored };
  }

  /**
   * This conversation's archived turns, beyond the window, a page at a time
   * (see `HistoryQuery`; default: the oldest 50, oldest first). Empty while
   * there is no agent session, and while nothing of it has been archived
   * yet. The archive lags the window by however far the archiver is behind:
   * the newest turns are in `turns()` first.
   */
  async history(query: HistoryQuery = {}): Promise<Turn[]> {
    this.#requireColdTier('history()');
    const link = this.#link();
    if (!link) return [];
    const user = this.#state.user();
    this.#checkBinding(link, user);
    try {
      return await this.#refusalsHandled(() => this.#agents.history(link.id, { user }, query));
    } catch (error) {
      // Not in the archive: the archiver has not reached it yet (or it was erased); there is no history beyond the window.
      if (error instanceof SessionNotFoundError) return [];
      throw error;
    }
  }

  /**
   * The signed-in user's conversations, newest first, a page at a time (pass
   * the page's `next` as `before` for the next one). From the archive, so a
   * conversation shows once the archiver has copied it. `UserRequiredError`
   * for an anonymous request: anonymous conversations are bound to nobody,
   * so there is nobody to list them for (answer 401).
   */
  async conversations(page: ConversationPage = {}): Promise<ConversationList> {
    this.#requireColdTier('conversations()');
    const user = this.#state.user();
    if (user === null) throw new UserRequiredError('req.agent.conversations() / ctx.agent.conversations()');
    return this.#agents.conversations(user, page);
  }

  // --- writes: the first one creates the agent session ------------------------

  async update(patch: MetaPatch): Promise<void> {
    await this.#write((session) => session.update(patch));
  }

  /**
   * Appends a turn. Pass the client's message id as `idempotencyKey` and a
   * retried request (after a 503 whose outcome it could not know) gets the
   * first append's turn back instead of a second one.
   */
  async appendTurn(input: TurnInput, options?: IdempotentWriteOptions): Promise<Turn> {
    checkedIdempotencyKey(options); // before a first write would create the agent session
    return this.#write((session) => session.appendTurn(input, options));
  }

  async startToolCall(input: ToolCallInput, options?: IdempotentWriteOptions): Promise<ToolCall> {
    checkedIdempotencyKey(options);
    return this.#write((session) => session.startToolCall(input, options));
  }

  /** Finishing a call needs a started one, so this never creates an agent session. */
  async completeToolCall(callId: string, result: unknown, options?: CompleteToolCallOptions): Promise<void> {
    await this.#read((session) => session.completeToolCall(callId, result, options), () => {
      throw new ToolCallNotFoundError(callId);
    });
  }

  async failToolCall(callId: string, error: string | Error): Promise<void> {
    await this.#read((session) => session.failToolCall(callId, error), () => {
      throw new ToolCallNotFoundError(callId);
    });
  }

  /**
   * Asks the observer to analyse this conversation and returns as soon as the
   * request is queued in Redis (never waits for the analysis); requests made
   * while one is queued or running coalesce. A write: asking to observe a
   * conversation that has no agent session yet creates one for this user.
   */
  async requestObservation(options?: ObservationRequestOptions): Promise<ObservationRequestResult> {
    return this.#write((session) => session.requestObservation(options));
  }

  /**
   * Deletes the agent session (every key, and with the cold tier its
   * archived copy) and forgets it; the next write starts a new one, under a
   * new id. Only the user it is bound to may delete it
   * (`SessionUserMismatchError` otherwise); use `detach()` to leave another
   * user's conversation behind.
   */
  async delete(): Promise<void> {
    const link = this.#link();
    if (!link) return;
    const user = this.#state.user();
    this.#checkBinding(link, user);
    const data = this.#requireCookieSession();
    await this.#refusalsHandled(() => this.#agents.session(link.id, { user }).delete());
    // A seed, not merely no link: the next conversation must not be derived
    // under the erased id again (the archive keeps erased ids erased, and so
    // would drop everything written under it).
    detachLink(data);
    this.#state.agentTtl = 'refreshed';
  }

  /**
   * Forgets the agent session in this cookie session, without a Redis call
   * and whoever it belongs to: the conversation itself stays as it is and
   * expires after its idle timeout (its TTL is no longer refreshed by this
   * browser). The next write starts a new agent session, under a new id.
   * For a login by another user than the one the conversation is bound to,
   * or to start over after a `SessionUserMismatchError`.
   */
  detach(): void {
    const data = this.#cookieSession.data();
    if (data) detachLink(data);
  }

  // --- internals ---------------------------------------------------------------

  #link(): AgentLink | undefined {
    return readLink(this.#cookieSession.data());
  }

  #requireCookieSession(): SessionData {
    const data = this.#cookieSession.data();
    if (!data) {
      throw new ConfigError(
        'req.agent / ctx.agent was used after the cookie session was destroyed in this request; use it before destroying the session.',
      );
    }
    return data;
  }

  /** Refuses, before Redis is asked, a call on an agent session the cookie session records as someone else's. */
  #checkBinding(link: AgentLink, user: string | null): void {
    if (!boundToSomeoneElse(link, user)) return;
    this.#leaveTtlAlone();
    throw new SessionUserMismatchError(link.id);
  }

  /**
   * Runs Redis calls for this request; when the Lua guard refuses the user
   * (the binding exists only in Redis), nothing was touched, and the
   * end-of-request refresh must not touch the keys either.
   */
  async #refusalsHandled<T>(calls: () => Promise<T>): Promise<T> {
    try {
      return await this.#whileAvailable(calls);
    } catch (error) {
      if (error instanceof SessionUserMismatchError) this.#leaveTtlAlone();
      throw error;
    }
  }

  /** Once a call of this request met StoreUnavailableError, later ones fail the same way without sending anything (see RequestState). */
  async #whileAvailable<T>(calls: () => Promise<T>): Promise<T> {
    if (this.#state.storeUnavailable) {
      throw new StoreUnavailableError('an earlier call of this request found it unavailable, so the request sends nothing more');
    }
    try {
      return await calls();
    } catch (error) {
      if (error instanceof StoreUnavailableError) this.#state.storeUnavailable = true;
      throw error;
    }
  }

  #leaveTtlAlone(): void {
    this.#state.agentTtl = 'refused';
  }

  /** A call on an existing agent session; `whenMissing` answers when there is none (or it expired). */
  async #read<T>(operation: (session: AgentSession) => Promise<T>, whenMissing: () => T): Promise<T> {
    const link = this.#link();
    if (!link) return whenMissing();
    const user = this.#state.user();
    this.#checkBinding(link, user);
    try {
      const result = await this.#refusalsHandled(() => operation(this.#agents.session(link.id, { user })));
      this.#used(link.id, user);
      return result;
    } catch (error) {
      if (error instanceof SessionNotFoundError) return whenMissing();
      throw error;
    }
  }

  /** A call that creates the agent session first when there is none. */
  async #write<T>(operation: (session: AgentSession) => Promise<T>): Promise<T> {
    const user = this.#state.user();
    const link = this.#link();
    if (link) this.#checkBinding(link, user);
    return this.#refusalsHandled(async () => {
      const id = link?.id ?? agentIdFor(this.#cookieSessionId(), this.#cookieSession.data());
      const session = this.#agents.session(id, { user });
      try {
        const result = link ? await operation(session) : await this.#createThen(user, id, () => operation(session));
        this.#used(id, user);
        return result;
      } catch (error) {
        if (!(error instanceof SessionNotFoundError)) throw error;
      }
      // Gone behind this cookie session's back (expired, evicted, deleted
      // elsewhere): bring it back, or start it again.
      const again = link ? await this.#comeBack(user, id) : { session, restored: false };
      const result = again.restored ? await operation(again.session) : await this.#createThen(user, again.session.id, () => operation(again.session));
      this.#used(again.session.id, user);
      return result;
    });
  }

  /**
   * Where a write goes on when the linked agent session is gone from Redis.
   * Without the cold tier: afresh under the same id (nothing else remembers
   * its seqs). With it: the conversation restored from the archive, its seqs
   * continuing where the archive ends (`restored`: write at once); or, when
   * the archive does not know the id, a new conversation under a successor
   * id, to be created first. The old id is not reused then: it was either
   * never archived, and its backlog may still hold turns for the archiver
   * under seqs a fresh start would assign again (two different turns under
   * one seq in PostgreSQL), or erased, and the archive drops what is written
   * under an erased id. `SessionUserMismatchError` when the archive says the
   * conversation is another user's; `ArchiveUnavailableError` (503) while the
   * archive cannot say: forking the conversation because PostgreSQL blinked
   * would be worse than a retry.
   */
  async #comeBack(user: string | null, id: string): Promise<{ session: AgentSession; restored: boolean }> {
    if (!this.#agents.archives) return { session: this.#agents.session(id, { user }), restored: false };
    try {
      const { session } = await this.#agents.resume(id, { user });
      // Restored, or back already (a concurrent request of this cookie session restored or recreated it): either way it is in Redis.
      return { session, restored: true };
    } catch (error) {
      if (!(error instanceof SessionNotFoundError)) throw error;
    }
    return { session: this.#agents.session(successorIdFor(this.#cookieSessionId(), id), { user }), restored: false };
  }

  /**
   * CREATE and then the operation, issued together: node-redis writes them
   * in order on the session's one connection (the same node, one slot), so
   * creating costs no round trip of its own. When Redis had lost CREATE's
   * script (a promoted replica, a restart, SCRIPT FLUSH) but not the
   * operation's, CREATE is sent again as EVAL after the operation has run
   * and found no session (writing nothing); once CREATE has landed, the
   * operation runs again.
   */
  async #createThen<T>(user: string | null, id: string, operation: () => Promise<T>): Promise<T> {
    this.#requireCookieSession();
    const [created, result] = await Promise.allSettled([this.#create(user, id), operation()]);
    if (created.status === 'rejected') throw created.reason;
    if (result.status === 'fulfilled') return result.value;
    if (result.reason instanceof SessionNotFoundError) return operation();
    throw result.reason;
  }

  async #create(user: string | null, id: string): Promise<void> {
    try {
      await this.#agents.create({ id, ...(user !== null ? { userId: user } : {}) });
    } catch (error) {
      // A concurrent request of this cookie session created it first; the
      // guard of the call that follows still checks the user.
      if (!(error instanceof SessionExistsError)) throw error;
    }
  }

  #requireColdTier(call: string): void {
    if (this.#agents.archives) return;
    throw new ConfigError(
      `req.agent.${call} / ctx.agent.${call} reads the cold tier, and this middleware has none: ` +
        'pass archive: { tier: createPgArchive({ connectionString }) } (agent-session/archive) to agentSession(), and run the archiver.',
    );
  }

  #cookieSessionId(): string {
    const id = this.#cookieSession.id();
    if (!id) throw new ConfigError('req.agent / ctx.agent needs a cookie session; mount agentSession() before the routes that use it.');
    return id;
  }

  /**
   * After a successful call: the agent TTL is fresh, and the cookie session
   * records the agent session and whom it is bound to now (a signed-in
   * user's first call binds an anonymous session to them, in Redis too).
   * The link is written only after success, so a refused call records nothing.
   */
  #used(id: string, user: string | null): void {
    this.#state.agentTtl = 'refreshed';
    const data = this.#cookieSession.data();
    if (!data) return;
    const link = readLink(data);
    // An anonymous call leaves a recorded binding as it was, but only that
    // session's: a link to another id (a resume, a successor) starts from what this call showed.
    const userId = user ?? (link?.id === id ? link.userId : undefined);
    if (link?.id !== id || link.userId !== userId) writeLink(data, { id, userId });
  }
}
