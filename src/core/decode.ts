import { CorruptStateError } from '../errors.js';
import { APP_FIELD_PREFIX } from './keys.js';
import type { StoredObserverState } from './notes.js';
import { TURN_ROLES, type AgentMeta, type ToolCall, type ToolCallStatus, type Turn } from './types.js';

/**
 * Turns raw script replies into typed values. Anything that does not have the
 * shape agent-session writes raises `CorruptStateError` naming the key, so a
 * hand-edited or foreign value never surfaces as a TypeError deep in an app.
 */

/** A flat [field, value, field, value, ...] reply (HGETALL inside a script). */
export function pairsToMap(reply: unknown, key: string): Map<string, string> {
  if (!Array.isArray(reply) || reply.length % 2 !== 0) {
    throw new CorruptStateError(key, 'expected a hash');
  }
  const map = new Map<string, string>();
  for (let i = 0; i < reply.length; i += 2) map.set(String(reply[i]), String(reply[i + 1]));
  return map;
}

function integerField(map: Map<string, string>, field: string, key: string): number {
  const raw = map.get(field);
  const value = raw === undefined ? NaN : Number(raw);
  if (!Number.isSafeInteger(value)) throw new CorruptStateError(key, `field "${field}" is not an integer`);
  return value;
}

function optionalInteger(map: Map<string, string>, field: string, key: string): number | undefined {
  return map.has(field) ? integerField(map, field, key) : undefined;
}

export function parseJson(raw: string, key: string, what: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    // No cause: a SyntaxError's message quotes the stored text, which must not reach a log.
    throw new CorruptStateError(key, `${what} is not valid JSON`);
  }
}

export function decodeMeta(id: string, reply: unknown, key: string): AgentMeta {
  const map = pairsToMap(reply, key);
  const meta: AgentMeta = {
    id,
    createdAt: integerField(map, 'createdAt', key),
    lastActive: integerField(map, 'lastActive', key),
    turnCount: integerField(map, 'turnCount', key),
    fields: {},
  };
  for (const [field, value] of map) {
    if (field.startsWith(APP_FIELD_PREFIX)) meta.fields[field.slice(APP_FIELD_PREFIX.length)] = value;
    else if (field === 'userId' || field === 'agentId' || field === 'model' || field === 'currentTask') meta[field] = value;
  }
  return meta;
}

export function decodeTurn(raw: unknown, key: string): Turn {
  const value = parseJson(String(raw), key, 'a turn');
  if (typeof value !== 'object' || value === null) throw new CorruptStateError(key, 'a turn is not an object');
  const turn = value as Record<string, unknown>;
  if (
    !Number.isSafeInteger(turn.seq) ||
    !Number.isSafeInteger(turn.ts) ||
    typeof turn.content !== 'string' ||
    !TURN_ROLES.includes(turn.role as Turn['role']) ||
    (turn.toolCallId !== undefined && typeof turn.toolCallId !== 'string')
  ) {
    throw new CorruptStateError(key, 'a turn lacks seq, ts, role or content');
  }
  return turn as unknown as Turn;
}

export function decodeTurns(reply: unknown, key: string): Turn[] {
  if (!Array.isArray(reply)) throw new CorruptStateError(key, 'expected a list of turns');
  return reply.map((raw) => decodeTurn(raw, key));
}

const TOOL_STATUSES: readonly ToolCallStatus[] = ['pending', 'completed', 'failed'];

/** Groups "<callId>:<attribute>" fields back into tool calls, oldest first. */
export function decodeToolCalls(reply: unknown, key: string): ToolCall[] {
  const byId = new Map<string, Map<string, string>>();
  for (const [field, value] of pairsToMap(reply, key)) {
    const split = field.lastIndexOf(':');
    // Field names are stored content too: the message never quotes them.
    if (split <= 0) throw new CorruptStateError(key, 'a field is not "<callId>:<attribute>"');
    const id = field.slice(0, split);
    let attributes = byId.get(id);
    if (!attributes) byId.set(id, (attributes = new Map()));
    attributes.set(field.slice(split + 1), value);
  }
  const calls: ToolCall[] = [];
  for (const [id, attributes] of byId) {
    const status = attributes.get('status') as ToolCallStatus | undefined;
    const name = attributes.get('name');
    if (!status || !TOOL_STATUSES.includes(status) || name === undefined) {
      throw new CorruptStateError(key, 'a tool call lacks a name or a valid status');
    }
    const call: ToolCall = {
      id,
      name,
      status,
      args: parseJson(attributes.get('args') ?? 'null', key, "a tool call's arguments"),
      startedAt: integerField(attributes, 'startedAt', key),
    };
    const finishedAt = optionalInteger(attributes, 'finishedAt', key);
    if (finishedAt !== undefined) call.finishedAt = finishedAt;
    if (attributes.has('result')) call.result = parseJson(attributes.get('result')!, key, "a tool call's result");
    if (attributes.has('error')) call.error = attributes.get('error')!;
    if (attributes.get('cached') === '1') call.cached = true;
    calls.push(call);
  }
  return calls.sort((a, b) => a.startedAt - b.startedAt);
}

export function decodeObserver(reply: unknown, key: string): StoredObserverState {
  const map = pairsToMap(reply, key);
  const state: StoredObserverState = {};
  const writtenAt = optionalInteger(map, 'writtenAt', key);
  const coversThroughSeq = optionalInteger(map, 'coversThroughSeq', key);
  if (writtenAt !== undefined && coversThroughSeq !== undefined && map.has('notes')) {
    state.writtenAt = writtenAt;
    state.coversThroughSeq = coversThroughSeq;
    state.notes = parseJson(map.get('notes')!, key, 'the observer notes');
  }
  const lastErrorAt = optionalInteger(map, 'lastErrorAt', key);
  if (lastErrorAt !== undefined && map.has('lastError')) {
    state.lastError = { message: map.get('lastError')!, at: lastErrorAt };
  }
  return state;
}
