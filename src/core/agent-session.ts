import type { AgentSession, ObservationRequestOptions, ObservationRequestResult } from './api.js';
import { callerArguments, type Caller, type CallerArguments } from './caller.js';
import type { RestoreData } from './cold-tier.js';
import type { StoreConfig } from './config.js';
import { decodeMeta, decodeObserver, decodeToolCalls, decodeTurns } from './decode.js';
import { InvalidInputError, AgentPayloadTooLargeError, SessionUserMismatchError, ToolCallNotFoundError } from '../errors.js';
import { assertValidId, checkedIdempotencyKey } from './ids.js';
import {
  APP_FIELD_PREFIX,
  DEFAULT_OBSERVER_KIND,
  OBSERVER_QUEUED_TTL_MS,
  observerQueueKey,
  sessionKeys,
  stateKeys,
  type SessionKeys,
} from './keys.js';
import { evaluateNotes } from './notes.js';
import { toAgentSessionError } from './script-errors.js';
import * as scripts from './scripts.js';
import type { LuaScript } from '../redis/script.js';
import { runScript } from '../redis/script.js';
import {
  TURN_ROLES,
  type AgentMeta,
  type AgentSessionInit,
  type AgentSnapshot,
  type CompleteToolCallOptions,
  type IdempotentWriteOptions,
  type MetaPatch,
  type NotesQuery,
  type NotesResult,
  type ToolCall,
  type ToolCallInput,
  type Turn,
  type TurnInput,
  type TurnQuery,
} from './types.js';

/**
 * What `loadAlong` did to the session: touched; 'missing' (the link names
 * it, it is not in Redis); 'foreign' (bound to another user than the link
 * records) or 'corrupt', left untouched; 'unlinked': not looked at (the
 * link names no session or another, or the cookie session was not extended).
 */
export type LoadTouch = 'touched' | 'missing' | 'foreign' | 'corrupt' | 'unlinked';
const TOUCH_OUTCOMES: Record<number, LoadTouch> = { 1: 'touched', 0: 'missing', [-1]: 'foreign', [-2]: 'corrupt', [-3]: 'unlinked' };

/** What `untouch` needs to put a session's lastActive and TTLs back as they were before a `loadAlong` touch. */
export interface TouchUndo {
  token: string;
  lastActive: string;
  deadline: number;
}

export interface LoadAlongReply {
  /** The cookie session's stored string; null when it is missing or not a string (pttlMs -2 / -3). */
  value: string | null;
  /** Its PTTL before the call: -1 no TTL, -2 missing, -3 not a string. */
  pttlMs: number;
  extended: boolean;
  touched: LoadTouch;
  /** Set when `touched` is 'touched'. */
  undo: TouchUndo | undefined;
}

/** Longest observer error message kept (characters); the rest is cut. */
const OBSERVER_ERROR_CHARS = 2_000;

/**
 * The handle behind the public `AgentSession` type. Besides the public
 * methods it holds what only the library itself calls: `create` (through the
 * store), the observer's fenced writes, and `touchAlong` for the middleware's
 * end-of-request refresh.
 */
export class SessionHandle implements AgentSession {
  readonly id: string;
  readonly keys: SessionKeys;
  readonly #config: StoreConfig;
  readonly #caller: CallerArguments;

  constructor(config: StoreConfig, id: string, caller: Caller) {
    assertValidId(id);
    this.#caller = callerArguments(caller);
    this.id = id;
    this.keys = sessionKeys(config.keyPrefix, id);
    this.#config = config;
  }

  /** Creates this session in Redis; fails with `SessionExistsError` if it is already there. */
  async create(init: Omit<AgentSessionInit, 'id'> = {}): Promise<void> {
    const fields: string[] = [];
    if (init.userId !== undefined) fields.push('userId', this.#checkedValue('userId', init.userId));
    fields.push(...this.#metaFields({ agentId: init.agentId, model: init.model, currentTask: init.currentTask, fields: init.fields }).set);
    await this.#run(scripts.CREATE, [this.#config.events, ...fields], { owner: '', archived: true });
  }

  async meta(): Promise<AgentMeta> {
    const [meta] = (await this.#read(['none', 0, 0], false, false)) as [unknown];
    return decodeMeta(this.id, meta, this.keys.meta);
  }

  /** Writes only the named fields; `null` removes one. */
  async update(patch: MetaPatch): Promise<void> {
    const { set, remove } = this.#metaFields(patch);
    if (set.length === 0 && remove.length === 0) return;
    await this.#run(scripts.UPDATE_META, [this.#config.events, set.length / 2, ...set, ...remove], { archived: true });
  }

  async appendTurn(input: TurnInput, options: IdempotentWriteOptions = {}): Promise<Turn> {
    const idempotencyKey = checkedIdempotencyKey(options);
    if (!input || !TURN_ROLES.includes(input.role)) {
      throw new InvalidInputError(`A turn's role must be one of ${TURN_ROLES.join(', ')}.`);
    }
    if (typeof input.content !== 'string') throw new InvalidInputError("A turn's content must be a string.");
    this.#fit('Turn content', input.content, 'turnContentBytes');
    if (input.toolCallId !== undefined) assertValidId(input.toolCallId, 'tool call id');
    const body = JSON.stringify({ role: input.role, content: input.content, toolCallId: input.toolCallId });
    const [seq, ts] = (await this.#run(scripts.APPEND_TURN, [this.#config.maxTurns, body, idempotencyKey, this.#config.idempotencySpec, this.#config.events], {
      archived: true,
      afterArchive: [this.keys.idem],
    })) as [number, number];
    const turn: Turn = { seq: Number(seq), ts: Number(ts), role: input.role, content: input.content };
    if (input.toolCallId !== undefined) turn.toolCallId = input.toolCallId;
    return turn;
  }

  /** The newest turns by default; see `TurnQuery` for seq and time ranges. */
  async turns(query: TurnQuery = { last: this.#config.maxTurns }): Promise<Turn[]> {
    const [, turns] = (await this.#read(turnSelection(query), false, false)) as [unknown, unknown];
    return decodeTurns(turns, this.keys.turns);
  }

  /** Metadata, the last `lastTurns` turns, tool calls and notes, in one round trip. */
  async snapshot(options: { lastTurns?: number | undefined; notes?: NotesQuery | undefined } = {}): Promise<AgentSnapshot> {
    const [meta, turns, tools, observer, now] = await this.#read(['last', options.lastTurns ?? 10, 0], true, true);
    const decodedMeta = decodeMeta(this.id, meta, this.keys.meta);
    return {
      meta: decodedMeta,
      turns: decodeTurns(turns, this.keys.turns),
      toolCalls: decodeToolCalls(tools, this.keys.tools),
      notes: evaluateNotes(decodeObserver(observer, this.keys.observer), decodedMeta.turnCount, Number(now), options.notes),
    };
  }

  async startToolCall(input: ToolCallInput, options: IdempotentWriteOptions = {}): Promise<ToolCall> {
    const idempotencyKey = checkedIdempotencyKey(options);
    assertValidId(input?.id, 'tool call id');
    if (typeof input.name !== 'string' || input.name.length === 0) {
      throw new InvalidInputError('A tool call needs a non-empty `name`.');
    }
    this.#checkedValue('tool name', input.name);
    const args = this.#toolPayload('Tool call arguments', input.args ?? null);
    const { idempotencySpec, maxToolCalls } = this.#config;
    const startedAt = Number(
      await this.#run(scripts.START_TOOL_CALL, [input.id, input.name, args, idempotencyKey, idempotencySpec, maxToolCalls, this.#config.events], {
        toolCallId: input.id,
        archived: true,
        afterArchive: [this.keys.idem, this.keys.toolOrder],
      }),
    );
    return { id: input.id, name: input.name, status: 'pending', args: input.args ?? null, startedAt };
  }

  async completeToolCall(callId: string, result: unknown, options: CompleteToolCallOptions = {}): Promise<void> {
    assertValidId(callId, 'tool call id');
    const cached = options?.cached ?? false;
    if (typeof cached !== 'boolean') throw new InvalidInputError('`cached` must be true or false.');
    const payload = this.#toolPayload('Tool call result', result ?? null);
    await this.#run(scripts.FINISH_TOOL_CALL, [callId, 'completed', payload, this.#config.events, cached ? '1' : ''], { toolCallId: callId, archived: true });
  }

  async failToolCall(callId: string, error: string | Error): Promise<void> {
    assertValidId(callId, 'tool call id');
    const message = error instanceof Error ? error.message : String(error);
    this.#fit('Tool call error', message, 'toolPayloadBytes');
    await this.#run(scripts.FINISH_TOOL_CALL, [callId, 'failed', message, this.#config.events, ''], { toolCallId: callId, archived: true });
  }

  async toolCalls(): Promise<ToolCall[]> {
    const [, , tools] = await this.#read(['none', 0, 0], true, false);
    return decodeToolCalls(tools, this.keys.tools);
  }

  async toolCall(callId: string): Promise<ToolCall> {
    assertValidId(callId, 'tool call id');
    // Only this call's fields are read (HMGET), not the whole window.
    const [, , tools] = await this.#read(['none', 0, 0], `=${callId}`, false);
    const [call] = decodeToolCalls(tools, this.keys.tools);
    if (!call) throw new ToolCallNotFoundError(callId);
    return call;
  }

  /** The observer's notes and how stale they are by your tolerances; `{ ready: false }` before the first run. */
  async notes<T = unknown>(query: NotesQuery = {}): Promise<NotesResult<T>> {
    const [meta, , , observer, now] = await this.#read(['none', 0, 0], false, true);
    const { turnCount } = decodeMeta(this.id, meta, this.keys.meta);
    return evaluateNotes<T>(decodeObserver(observer, this.keys.observer), turnCount, Number(now), query);
  }

  /**
   * Stores observer notes covering turns up to `coversThroughSeq`. Returns
   * false when the session already holds notes covering a later turn (they
   * are kept). With a `fencingToken` the write succeeds only while that
   * token is the session's current observer lease (else `LeaseLostError`).
   */
  async writeNotes(notes: unknown, options: { coversThroughSeq: number; fencingToken?: string }): Promise<boolean> {
    if (!Number.isSafeInteger(options?.coversThroughSeq) || options.coversThroughSeq < 0) {
      throw new InvalidInputError('`coversThroughSeq` must be the seq (a whole number >= 0) of the last turn the notes cover.');
    }
    const json = this.#fit('Observer notes', JSON.stringify(notes ?? null), 'notesBytes');
    const written = await this.#run(scripts.WRITE_NOTES, [options.fencingToken ?? '', options.coversThroughSeq, json, this.#config.events], {
      owner: '',
      withLease: true,
      archived: true,
    });
    return Number(written) === 1;
  }

  /** Records the observer's last failure for the primary to see; keeps existing notes. */
  async writeObserverError(message: string, options: { fencingToken?: string } = {}): Promise<void> {
    const bounded = message.length > OBSERVER_ERROR_CHARS ? `${message.slice(0, OBSERVER_ERROR_CHARS)}…` : message;
    await this.#run(scripts.WRITE_OBSERVER_ERROR, [options.fencingToken ?? '', bounded, this.#config.events], { owner: '', withLease: true });
  }

  /**
   * Asks the observer of `kind` to analyse this session, without waiting for
   * the analysis: resolves as soon as the request is durably in Redis.
   * Requests made while a job for the session is queued or running coalesce
   * (at most one more run follows the running one). `SessionNotFoundError`
   * for a missing session, and nothing is created.
   *
   * Two round trips, because the queue lives in another Cluster slot than the
   * session: mark the session's job state (coalescing), then add the job.
   * If adding the job fails, the mark is undone before the error is thrown;
   * if the process dies in between, the mark expires after `queuedTtlMs`.
   */
  async requestObservation(options: ObservationRequestOptions = {}): Promise<ObservationRequestResult> {
    const kind = options.kind ?? DEFAULT_OBSERVER_KIND;
    assertValidId(kind, 'observer kind');
    const queuedTtlMs = options.queuedTtlMs ?? OBSERVER_QUEUED_TTL_MS;
    if (!Number.isSafeInteger(queuedTtlMs) || queuedTtlMs < 1) {
      throw new InvalidInputError('`queuedTtlMs` must be a whole number of milliseconds >= 1.');
    }
    const { client, failFastMs, keyPrefix, observerQueue } = this.#config;
    // The mark must not outlive its job: a job trimmed by age would otherwise swallow the requests coalesced into it.
    const markMs = Math.min(queuedTtlMs, observerQueue.maxAgeMs);
    const state = String(await this.#run(scripts.REQUEST_OBSERVATION, [kind, markMs, this.#config.events], { withJobs: true }));
    if (state !== 'enqueue') return { outcome: 'coalesced', kind, into: state === 'queued' ? 'queued' : 'running' };
    const queue = observerQueueKey(keyPrefix, kind);
    try {
      const jobId = await runScript(client, scripts.ENQUEUE_OBSERVATION, [queue], [this.id, observerQueue.maxLength, observerQueue.maxAgeMs], failFastMs);
      return { outcome: 'queued', kind, jobId: String(jobId) };
    } catch (error) {
      await runScript(client, scripts.CANCEL_OBSERVATION, [this.keys.jobs], [kind], failFastMs).catch(() => undefined);
      throw toAgentSessionError(error, { sessionId: this.id, sessionKeys: queue });
    }
  }

  /** Resets the idle TTL of every key in one round trip. False if the session no longer exists. */
  async touch(): Promise<boolean> {
    return Number(await this.#run(scripts.TOUCH, [])) === 1;
  }

  /**
   * `touch()`, plus extending `key` (never recreating it) to `ttlMs` in the
   * same command: for a key on the same Redis node as the session, such as
   * the cookie session on a standalone or Sentinel-managed Redis (on Cluster
   * it would be another slot). Another user's session is left untouched
   * rather than refused, so the key is still extended.
   * Returns whether the session was touched and whether `key` existed.
   */
  async touchAlong(key: string, ttlMs: number): Promise<{ touched: boolean; extended: boolean }> {
    const [touched, extended] = (await this.#run(scripts.TOUCH_ALONG, [ttlMs], { alongKey: key })) as [number, number];
    return { touched: Number(touched) === 1, extended: Number(extended) === 1 };
  }

  /**
   * Loads the cookie session stored at `key` (a key in this session's slot)
   * and, in the same command, extends it to `ttlMs` (while its PTTL is above
   * `extendAboveMs`) and touches this session as the user the cookie
   * session's link (field `linkField`) records, when that link names this
   * session (see loadAlong-5.lua). The touch can be undone with `untouch`.
   */
  async loadAlong(key: string, options: { ttlMs: number; extendAboveMs: number; linkField: string }): Promise<LoadAlongReply> {
    const { client, failFastMs, idleTimeoutMs } = this.#config;
    const keys = [...stateKeys(this.keys), key];
    const args = ['', idleTimeoutMs, options.ttlMs, options.extendAboveMs, options.linkField, this.id];
    let reply: unknown[];
    try {
      reply = (await runScript(client, scripts.LOAD_ALONG, keys, args, failFastMs)) as unknown[];
    } catch (error) {
      throw toAgentSessionError(error, { sessionId: this.id, sessionKeys: key });
    }
    const [value, pttl, extended, touched, token, lastActive, deadline] = reply;
    const pttlMs = Number(pttl);
    return {
      value: typeof value === 'string' ? value : null,
      pttlMs,
      extended: Number(extended) === 1,
      touched: TOUCH_OUTCOMES[Number(touched)] ?? 'unlinked',
      undo: Number(token) > 0 ? { token: String(token), lastActive: typeof lastActive === 'string' ? lastActive : '', deadline: Number(deadline) } : undefined,
    };
  }

  /** Undoes a `loadAlong` touch, unless the session was touched again since (see untouch-4.lua). True when undone. */
  async untouch(undo: TouchUndo): Promise<boolean> {
    const { client, failFastMs } = this.#config;
    try {
      return Number(await runScript(client, scripts.UNTOUCH, stateKeys(this.keys), [undo.token, undo.lastActive, undo.deadline], failFastMs)) === 1;
    } catch (error) {
      throw toAgentSessionError(error, { sessionId: this.id, sessionKeys: `${this.#config.keyPrefix}{${this.id}}:*` });
    }
  }

  /**
   * Removes every key of the session (refused with `SessionUserMismatchError`
   * for another user's session) and, with a cold tier, erases the archived
   * conversation too, whether or not it was still in Redis.
   */
  async delete(): Promise<void> {
    const { keys } = this;
    await this.#run(scripts.DELETE, [this.#config.events], { refresh: false, withLease: true, withJobs: true, extraKeys: [keys.archive, keys.archiveLease, keys.toolOrder, keys.idem] });
    const tier = this.#config.archive?.tier;
    if (!tier) return;
    const archived = await tier.owner(this.id);
    if (archived === null) return;
    if (!this.mayActFor(archived.userId)) throw new SessionUserMismatchError(this.id);
    await tier.erase(this.id);
  }

  /**
   * Puts the session back from the cold tier's `data` in one atomic step,
   * bound as it was archived. 'exists' when it is in Redis already (a
   * concurrent resume was first); nothing is written then.
   */
  async restore(data: RestoreData): Promise<'restored' | 'exists'> {
    const { meta } = data;
    const fields: Array<string | number> = ['createdAt', meta.createdAt, 'lastActive', meta.lastActive, 'turnCount', data.lastSeq];
    fields.push('idleTimeoutMs', this.#config.idleTimeoutMs);
    const lastTurn = data.turns.at(-1);
    if (lastTurn) fields.push('lastTurnAt', lastTurn.ts);
    for (const name of ['userId', 'agentId', 'model', 'currentTask'] as const) {
      const value = meta[name];
      if (value !== undefined) fields.push(name, value);
    }
    for (const [name, value] of Object.entries(meta.fields)) fields.push(`${APP_FIELD_PREFIX}${name}`, value);
    // The stored form of a turn, key order included (read's time search parses its head).
    const turns = data.turns.map(({ seq, ts, role, content, toolCallId }) => JSON.stringify({ seq, ts, role, content, toolCallId }));
    const tools: Array<string | number> = [];
    for (const call of toolCallWindow(data.toolCalls, this.#config.maxToolCalls)) {
      const id = call.callId;
      tools.push(`${id}:name`, call.name, `${id}:status`, call.status, `${id}:args`, JSON.stringify(call.args ?? null), `${id}:startedAt`, call.startedAt);
      if (call.result !== undefined) tools.push(`${id}:result`, JSON.stringify(call.result));
      if (call.error !== undefined) tools.push(`${id}:error`, call.error);
      if (call.finishedAt !== undefined) tools.push(`${id}:finishedAt`, call.finishedAt);
      if (call.cached === true) tools.push(`${id}:cached`, '1');
    }
    const observer: Array<string | number> = [];
    if (data.notes) {
      observer.push('notes', JSON.stringify(data.notes.notes), 'writtenAt', data.notes.writtenAt, 'coversThroughSeq', data.notes.coversThroughSeq);
    }
    const strings = (values: Array<string | number>) => JSON.stringify(values.map(String));
    const reply = await this.#run(scripts.RESTORE, [strings(fields), JSON.stringify(turns), strings(tools), strings(observer), this.#config.maxTurns, this.#config.events], {
      owner: '',
      extraKeys: [this.keys.archive, this.keys.toolOrder],
    });
    return reply === 'restored' ? 'restored' : 'exists';
  }

  /** Whether this handle's caller passes the binding to `userId` (as the Lua guard would judge it). */
  mayActFor(userId: string | null): boolean {
    const { owner } = this.#caller;
    if (owner === '') return true;
    if (userId === null) return true;
    return owner === `=${userId}`;
  }

  // --- internals -----------------------------------------------------------

  /** `tools`: all the calls (true), none (false), or only the one call `=<callId>`. */
  #read(selection: [string, number, number], tools: boolean | `=${string}`, observer: boolean): Promise<unknown[]> {
    return this.#run(scripts.READ, [...selection, typeof tools === 'string' ? tools : tools ? 1 : 0, observer ? 1 : 0], {
      refresh: this.#caller.activity,
    }) as Promise<unknown[]>;
  }

  async #run(
    script: LuaScript,
    args: Array<string | number>,
    options: {
      refresh?: boolean;
      owner?: string;
      withLease?: boolean;
      withJobs?: boolean;
      alongKey?: string;
      extraKeys?: string[];
      toolCallId?: string;
      /** The script queues its change in the archive backlog (KEYS last, ARGV[3]), when the store archives. */
      archived?: boolean;
      /** Keys an archiving script takes after the archive backlog. */
      afterArchive?: string[];
    } = {},
  ): Promise<unknown> {
    const keys = stateKeys(this.keys);
    if (options.withLease) keys.push(this.keys.lease);
    if (options.withJobs) keys.push(this.keys.jobs);
    if (options.alongKey !== undefined) keys.push(options.alongKey);
    if (options.extraKeys) keys.push(...options.extraKeys);
    const owner = options.owner ?? this.#caller.owner;
    // A trusted (background) writer refreshes to the session's own idle timeout, which it may not know.
    const ttl = options.refresh === false ? 0 : this.#caller.activity ? this.#config.idleTimeoutMs : 'session';
    const { archive, client, failFastMs } = this.#config;
    try {
      if (!options.archived) return await runScript(client, script, keys, [owner, ttl, ...args], failFastMs);
      keys.push(this.keys.archive, ...(options.afterArchive ?? []));
      const write = [owner, ttl, archive?.spec ?? '', ...args];
      // The announcement goes first: see ArchiveRegistry for why the order
      // matters. Its failure must not fail a write that landed (a retry would
      // duplicate it); the next write of the session announces it again.
      const announced = archive?.registry.announce(this.id)?.catch(() => undefined);
      const [, result] = await Promise.all([announced, runScript(client, script, keys, write, failFastMs)]);
      return result;
    } catch (error) {
      throw toAgentSessionError(error, { sessionId: this.id, sessionKeys: `${this.#config.keyPrefix}{${this.id}}:*`, toolCallId: options.toolCallId });
    }
  }

  #checkedValue(name: string, value: unknown): string {
    if (typeof value !== 'string') throw new InvalidInputError(`Metadata \`${name}\` must be a string.`);
    return this.#fit(`Metadata \`${name}\``, value, 'metaValueBytes');
  }

  /** Returns `text` if its UTF-8 size is within the named limit; else `AgentPayloadTooLargeError`, before anything is sent. */
  #fit(what: string, text: string, limit: keyof StoreConfig['limits']): string {
    const size = Buffer.byteLength(text, 'utf8');
    const max = this.#config.limits[limit];
    if (size > max) throw new AgentPayloadTooLargeError(what, size, max, `limits.${limit}`);
    return text;
  }

  #toolPayload(what: string, value: unknown): string {
    const json = JSON.stringify(value);
    if (json === undefined) throw new InvalidInputError(`${what} must be JSON-serialisable.`);
    return this.#fit(what, json, 'toolPayloadBytes');
  }

  /** Validates a patch in full before anything is sent, so a bad field leaves Redis untouched. */
  #metaFields(patch: MetaPatch): { set: string[]; remove: string[] } {
    const set: string[] = [];
    const remove: string[] = [];
    const put = (field: string, name: string, value: string | null | undefined) => {
      if (value === undefined) return;
      if (value === null) remove.push(field);
      else set.push(field, this.#checkedValue(name, value));
    };
    put('agentId', 'agentId', patch.agentId);
    put('model', 'model', patch.model);
    put('currentTask', 'currentTask', patch.currentTask);
    for (const [name, value] of Object.entries(patch.fields ?? {})) {
      if (name.length === 0 || name.length > 128 || /[\s:{}*]/.test(name)) {
        throw new InvalidInputError(`App field name "${name.slice(0, 40)}" must be 1-128 characters without spaces, ":", "{", "}" or "*".`);
      }
      put(`${APP_FIELD_PREFIX}${name}`, `fields.${name}`, value);
    }
    return { set, remove };
  }
}

/** The calls a session keeps, as startToolCall leaves them: every pending call, and the newest finished ones up to the window. */
function toolCallWindow<T extends { status: string; startedAt: number }>(calls: readonly T[], window: number): T[] {
  const byStart = [...calls].sort((a, b) => a.startedAt - b.startedAt);
  let drop = byStart.length - window;
  return byStart.filter((call) => {
    if (drop <= 0 || call.status === 'pending') return true;
    drop -= 1;
    return false;
  });
}

function turnSelection(query: TurnQuery): [string, number, number] {
  const whole = (value: unknown, name: string) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new InvalidInputError(`\`${name}\` must be a whole number >= 0.`);
    }
    return value;
  };
  if ('last' in query) return ['last', whole(query.last, 'last'), 0];
  if ('fromSeq' in query) return ['seq', whole(query.fromSeq, 'fromSeq'), whole(query.toSeq ?? Number.MAX_SAFE_INTEGER, 'toSeq')];
  if ('fromTime' in query) return ['time', whole(query.fromTime, 'fromTime'), whole(query.toTime ?? Number.MAX_SAFE_INTEGER, 'toTime')];
  throw new InvalidInputError('A turn query is { last }, { fromSeq, toSeq? } or { fromTime, toTime? }.');
}
