import type { ConversationCursor, ConversationPage, HistoryOrder, HistoryQuery } from '../core/cold-tier.js';
import { MAX_TURNS } from '../core/config.js';
import { assertValidId } from '../core/ids.js';
import { InvalidInputError } from '../errors.js';
import type { ArchiveBatch, ArchiveRecord, ArchivedMeta } from '../core/cold-tier.js';

/**
 * Checks of what callers pass to the archive, before anything reaches
 * PostgreSQL. Pure functions, each throwing `InvalidInputError` (or
 * `InvalidSessionIdError` for ids) with a message that names the argument
 * and never repeats a stored value.
 */

export const HISTORY_DEFAULT_LIMIT = 50;
export const HISTORY_MAX_LIMIT = 500;
export const LIST_DEFAULT_LIMIT = 20;
export const LIST_MAX_LIMIT = 100;
/** Longest conversation title, in characters. */
export const MAX_TITLE_LENGTH = 200;

export interface ResolvedHistoryQuery {
  beforeSeq?: number;
  afterSeq?: number;
  fromTime?: number;
  toTime?: number;
  limit: number;
  order: HistoryOrder;
}


export function checkSessionId(sessionId: unknown): asserts sessionId is string {
  assertValidId(sessionId);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function count(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (!isCount(value)) throw new InvalidInputError(`\`${name}\` must be a whole number, 0 or more.`);
  return value;
}

function limitOf(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidInputError(`\`${name}\` must be a whole number from 1 to ${max} (default ${fallback}).`);
  }
  return value;
}

export function checkMaxTurns(maxTurns: unknown): number {
  if (typeof maxTurns !== 'number' || !Number.isInteger(maxTurns) || maxTurns < 1 || maxTurns > MAX_TURNS) {
    throw new InvalidInputError(`\`maxTurns\` must be a whole number from 1 to ${MAX_TURNS}: the store's maxTurns.`);
  }
  return maxTurns;
}

export function resolveHistoryQuery(query: HistoryQuery | undefined): ResolvedHistoryQuery {
  const given: HistoryQuery = query ?? {};
  if (typeof given !== 'object' || given === null) throw new InvalidInputError('The history query must be an object, e.g. { beforeSeq: 120, limit: 50 }.');
  const order = given.order ?? 'oldest-first';
  if (order !== 'oldest-first' && order !== 'newest-first') {
    throw new InvalidInputError('`order` must be "oldest-first" or "newest-first".');
  }
  const resolved: ResolvedHistoryQuery = {
    limit: limitOf('limit', given.limit, HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT),
    order,
  };
  const beforeSeq = count('beforeSeq', given.beforeSeq);
  const afterSeq = count('afterSeq', given.afterSeq);
  const fromTime = count('fromTime', given.fromTime);
  const toTime = count('toTime', given.toTime);
  if (beforeSeq !== undefined) resolved.beforeSeq = beforeSeq;
  if (afterSeq !== undefined) resolved.afterSeq = afterSeq;
  if (fromTime !== undefined) resolved.fromTime = fromTime;
  if (toTime !== undefined) resolved.toTime = toTime;
  return resolved;
}

export function resolvePage(page: ConversationPage | undefined): { limit: number; before?: ConversationCursor } {
  const given: ConversationPage = page ?? {};
  if (typeof given !== 'object' || given === null) throw new InvalidInputError('The page must be an object, e.g. { limit: 20 }.');
  const limit = limitOf('limit', given.limit, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT);
  if (given.before === undefined) return { limit };
  const { before } = given;
  if (typeof before !== 'object' || before === null || !isCount(before.lastActive)) {
    throw new InvalidInputError('`before` must be the `next` of the previous page: { lastActive, id }.');
  }
  assertValidId(before.id, 'conversation id in `before`');
  return { limit, before: { lastActive: before.lastActive, id: before.id } };
}

export function checkUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new InvalidInputError('The user id must be a non-empty string: the id the conversations are bound to.');
  }
}

export function checkTitle(title: unknown): asserts title is string | null {
  if (title === null) return;
  if (typeof title !== 'string' || title.length === 0) {
    throw new InvalidInputError('A title must be a non-empty string, or null to remove it.');
  }
  if (title.length > MAX_TITLE_LENGTH) {
    throw new InvalidInputError(`A title is ${title.length} characters long; at most ${MAX_TITLE_LENGTH} are allowed. Shorten it.`);
  }
}

export function checkIdleMs(idleMs: unknown): number {
  if (typeof idleMs !== 'number' || !Number.isSafeInteger(idleMs) || idleMs < 1) {
    throw new InvalidInputError('`idleMs` must be a whole number of milliseconds, 1 or more.');
  }
  return idleMs;
}

export function checkNow(now: unknown): number | undefined {
  if (now === undefined) return undefined;
  if (!isCount(now)) throw new InvalidInputError('`now` must be a time in ms since the epoch (a whole number).');
  return now;
}

/**
 * The shape of what the archiver hands over. It comes from our own Redis
 * side, but a slip there must fail loudly here (naming the batch and the
 * field) rather than store something a restore cannot read back.
 */
export function checkBatches(batches: unknown): asserts batches is ArchiveBatch[] {
  if (!Array.isArray(batches)) throw new InvalidInputError('writeBatches() takes an array of batches.');
  batches.forEach((batch: unknown, index) => {
    const where = `batch ${index}`;
    if (typeof batch !== 'object' || batch === null) throw new InvalidInputError(`${where} must be an object.`);
    const { sessionId, meta, records } = batch as Partial<ArchiveBatch>;
    assertValidId(sessionId, `sessionId of ${where}`);
    if (meta !== null) checkMeta(meta, where);
    if (!Array.isArray(records)) throw new InvalidInputError(`${where}: \`records\` must be an array.`);
    records.forEach((record: unknown, position) => checkRecord(record, `${where}, record ${position}`));
  });
}

const ROLES = new Set(['user', 'assistant', 'system', 'tool']);
const STATUSES = new Set(['pending', 'completed', 'failed']);

function checkMeta(meta: unknown, where: string): asserts meta is ArchivedMeta {
  if (typeof meta !== 'object' || meta === null) throw new InvalidInputError(`${where}: \`meta\` must be an object or null.`);
  const m = meta as Partial<ArchivedMeta>;
  for (const key of ['userId', 'agentId', 'model', 'currentTask'] as const) {
    if (m[key] !== undefined && typeof m[key] !== 'string') throw new InvalidInputError(`${where}: meta.${key} must be a string when present.`);
  }
  if (typeof m.fields !== 'object' || m.fields === null || Object.values(m.fields).some((value) => typeof value !== 'string')) {
    throw new InvalidInputError(`${where}: meta.fields must be an object of strings.`);
  }
  for (const key of ['createdAt', 'lastActive', 'turnCount', 'idleTimeoutMs'] as const) {
    if (!isCount(m[key])) throw new InvalidInputError(`${where}: meta.${key} must be a whole number, 0 or more.`);
  }
}

function checkRecord(record: unknown, where: string): asserts record is ArchiveRecord {
  if (typeof record !== 'object' || record === null) throw new InvalidInputError(`${where} must be an object.`);
  const r = record as Record<string, unknown>;
  const numbers = (...keys: string[]): void => {
    for (const key of keys) if (!isCount(r[key])) throw new InvalidInputError(`${where}: \`${key}\` must be a whole number, 0 or more.`);
  };
  const strings = (...keys: string[]): void => {
    for (const key of keys) if (typeof r[key] !== 'string') throw new InvalidInputError(`${where}: \`${key}\` must be a string.`);
  };
  switch (r.kind) {
    case 'turn':
      numbers('seq', 'ts');
      strings('content');
      if (!ROLES.has(r.role as string)) throw new InvalidInputError(`${where}: \`role\` must be user, assistant, system or tool.`);
      if (r.toolCallId !== undefined) strings('toolCallId');
      return;
    case 'tool':
      strings('callId', 'name');
      numbers('startedAt');
      if (!STATUSES.has(r.status as string)) throw new InvalidInputError(`${where}: \`status\` must be pending, completed or failed.`);
      if (r.finishedAt !== undefined) numbers('finishedAt');
      if (r.error !== undefined) strings('error');
      return;
    case 'notes':
      numbers('coversThroughSeq', 'writtenAt');
      return;
    default:
      throw new InvalidInputError(`${where}: \`kind\` must be "turn", "tool" or "notes".`);
  }
}
